package deploy

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BuildOptions configure Build.
type BuildOptions struct {
	Root      string     // module root
	Out       string     // output folder; default <Root>/dist
	Functions []Function // what to build; default all of Functions(Root)
	GOOS      string     // default linux (Function Compute)
	GOARCH    string     // default amd64
	Go        string     // go command; default "go"
	Stderr    io.Writer  // the go command's output; default os.Stderr
}

// Artifact is one built function.
type Artifact struct {
	Name        string `json:"name"`
	Kind        Kind   `json:"kind"`
	Binary      string `json:"binary"` // <out>/<name>/main
	BinaryBytes int64  `json:"binary_bytes"`
	Zip         string `json:"zip"` // <out>/<name>.zip
	ZipBytes    int64  `json:"zip_bytes"`
	ZipSHA256   string `json:"zip_sha256"`
}

// BuildFlags are the go build flags of a function binary: no cgo (set in
// the environment), paths trimmed, symbols and DWARF stripped, no build ID
// or VCS stamp, so that the same source gives the same zip.
var BuildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// Build compiles every function in one go build (the packages build in
// parallel), then writes <out>/<name>/main and <out>/<name>.zip, the zip
// holding the binary as "main" with its run bit.
func Build(ctx context.Context, o BuildOptions) ([]Artifact, error) {
	if o.Out == "" {
		o.Out = filepath.Join(o.Root, DistDir)
	}
	if o.GOOS == "" {
		o.GOOS = "linux"
	}
	if o.GOARCH == "" {
		o.GOARCH = "amd64"
	}
	if o.Go == "" {
		o.Go = "go"
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Functions == nil {
		fns, err := Functions(o.Root)
		if err != nil {
			return nil, err
		}
		o.Functions = fns
	}
	if len(o.Functions) == 0 {
		return nil, errors.New("nothing to build")
	}
	tmp, err := os.MkdirTemp("", "sase-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", tmp+string(filepath.Separator))
	for _, f := range o.Functions {
		args = append(args, f.Dir)
	}
	cmd := exec.CommandContext(ctx, o.Go, args...)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+o.GOOS, "GOARCH="+o.GOARCH)
	cmd.Stdout, cmd.Stderr = o.Stderr, o.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}

	var out []Artifact
	for _, f := range o.Functions {
		built := filepath.Join(tmp, f.Name)
		if o.GOOS == "windows" {
			built += ".exe"
		}
		a := Artifact{Name: f.Name, Kind: f.Kind,
			Binary: filepath.Join(o.Out, f.Name, Handler), Zip: filepath.Join(o.Out, f.Name+".zip")}
		if err := os.MkdirAll(filepath.Dir(a.Binary), 0o755); err != nil {
			return nil, err
		}
		if err := copyFile(built, a.Binary, 0o755); err != nil {
			return nil, err
		}
		if err := ZipBinary(a.Binary, a.Zip); err != nil {
			return nil, err
		}
		if a.BinaryBytes, err = size(a.Binary); err != nil {
			return nil, err
		}
		if a.ZipBytes, err = size(a.Zip); err != nil {
			return nil, err
		}
		if a.ZipSHA256, err = sha256File(a.Zip); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// zipTime is the modification time of every zip entry (reproducible zips).
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// ZipBinary writes a zip holding binary as Handler ("main"), mode 0755:
// the go1 runtime executes it as is.
func ZipBinary(binary, zipPath string) error {
	in, err := os.Open(binary)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := zipPath + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: Handler, Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = io.Copy(w, in)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("zip %s: %w", zipPath, err)
	}
	return os.Rename(tmp, zipPath)
}

// WriteManifest writes <out>/manifest.json.
func WriteManifest(out string, arts []Artifact) error {
	b, err := json.MarshalIndent(arts, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), append(b, '\n'), 0o644)
}

// BundleFiles are the files of the deployable bundle besides the zips.
var BundleFiles = []string{"s.yaml", "s.jwt.yaml", "s.domain.yaml", "template.yaml", "docs/DEPLOY.md"}

// Bundle writes a .tar.gz with the specs, the deploy guide, the zips and
// the manifest, laid out like the repository, so that `s deploy` (or ROS)
// runs from the unpacked folder without Go.
func Bundle(root string, arts []Artifact, dest string) error {
	var files []string
	files = append(files, BundleFiles...)
	for _, a := range arts {
		rel, err := filepath.Rel(root, a.Zip)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
	}
	files = append(files, DistDir+"/manifest.json")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: "sase-multiaccount/" + name, Mode: 0o644, Size: int64(len(b)), ModTime: zipTime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return os.WriteFile(dest, buf.Bytes(), 0o644)
}

// Report is the human summary of a build: sizes per function and the
// limit check.
func Report(w io.Writer, arts []Artifact, maxZip int64) error {
	var over []string
	fmt.Fprintf(w, "%-28s %-11s %12s %12s\n", "function", "trigger", "binary", "zip")
	var tb, tz int64
	for _, a := range slices.Clone(arts) {
		flag := ""
		if maxZip > 0 && a.ZipBytes > maxZip {
			flag = "  OVER LIMIT"
			over = append(over, a.Name)
		}
		fmt.Fprintf(w, "%-28s %-11s %12s %12s%s\n", a.Name, a.Kind, MB(a.BinaryBytes), MB(a.ZipBytes), flag)
		tb += a.BinaryBytes
		tz += a.ZipBytes
	}
	fmt.Fprintf(w, "%-28s %-11s %12s %12s\n", fmt.Sprintf("total (%d functions)", len(arts)), "", MB(tb), MB(tz))
	if len(over) > 0 {
		return fmt.Errorf("zips over the %s limit: %s", MB(maxZip), strings.Join(over, ", "))
	}
	return nil
}

// MB formats a byte count in MiB.
func MB(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		return err
	}
	return os.Chmod(dst, mode) // WriteFile keeps the mode of an existing file
}

func size(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
