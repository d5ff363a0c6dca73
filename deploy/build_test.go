package deploy

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestZipBinaryIsReproducibleAndExecutable(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "main")
	writeFile(t, bin, "\x7fELF fake binary")
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	if err := ZipBinary(bin, a); err != nil {
		t.Fatal(err)
	}
	if err := ZipBinary(bin, b); err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("two zips of the same binary differ")
	}
	zr, err := zip.OpenReader(a)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != Handler || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip entries: %v", zr.File)
	}
}

func TestReportEnforcesTheZipLimit(t *testing.T) {
	arts := []Artifact{
		{Name: "list-members", Kind: HTTP, BinaryBytes: 11 << 20, ZipBytes: 4 << 20},
		{Name: "reconcile-members", Kind: Timer, BinaryBytes: 30 << 20, ZipBytes: 16 << 20},
	}
	var out bytes.Buffer
	err := Report(&out, arts, 15<<20)
	if err == nil || !strings.Contains(err.Error(), "reconcile-members") || strings.Contains(err.Error(), "list-members") {
		t.Errorf("Report = %v", err)
	}
	if !strings.Contains(out.String(), "4.00 MiB") || !strings.Contains(out.String(), "OVER LIMIT") || !strings.Contains(out.String(), "total (2 functions)") {
		t.Errorf("report:\n%s", out.String())
	}
	if err := Report(io.Discard, arts[:1], 15<<20); err != nil {
		t.Error(err)
	}
}

func TestBundleLaysOutTheRepository(t *testing.T) {
	dir := t.TempDir()
	for _, f := range append(slices.Clone(BundleFiles), "dist/manifest.json", "dist/list-members.zip") {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f), "content of "+f)
	}
	dest := filepath.Join(dir, "bundle.tar.gz")
	if err := Bundle(dir, []Artifact{{Name: "list-members", Zip: filepath.Join(dir, "dist/list-members.zip")}}, dest); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(dest)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		b, _ := io.ReadAll(tr)
		if string(b) != "content of "+strings.TrimPrefix(h.Name, "sase-multiaccount/") {
			t.Errorf("%s: %q", h.Name, b)
		}
	}
	for _, want := range []string{"sase-multiaccount/s.yaml", "sase-multiaccount/template.yaml", "sase-multiaccount/docs/DEPLOY.md", "sase-multiaccount/dist/list-members.zip", "sase-multiaccount/dist/manifest.json"} {
		if !slices.Contains(names, want) {
			t.Errorf("bundle lacks %s: %v", want, names)
		}
	}
	// The bundled specs point at the bundled zips.
	for _, f := range []string{"s.yaml", "s.jwt.yaml", "s.domain.yaml", "template.yaml", "docs/DEPLOY.md"} {
		if !slices.Contains(BundleFiles, f) {
			t.Errorf("BundleFiles lacks %s", f)
		}
	}
}
