package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// imageRef is ![alt](path) in Markdown.
var imageRef = regexp.MustCompile(`!\[[^\]]*\]\(\s*<?([^\s()<>]+)>?`)

// README's screenshots are files of the repository (make screenshots
// writes them to docs/images): each image README shows exists and is a
// PNG, and each PNG in docs/images is shown.
func TestReadmeImagesExist(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for i, line := range proseLines(string(b)) {
		for _, m := range imageRef.FindAllStringSubmatch(line, -1) {
			path := filepath.Clean(filepath.FromSlash(m[1]))
			shown[path] = true
			img, err := os.ReadFile(filepath.Join(root, path))
			if err != nil {
				t.Errorf("README.md:%d shows %s, which is missing (make screenshots writes docs/images): %v", i+1, m[1], err)
				continue
			}
			if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
				t.Errorf("README.md:%d shows %s, which is not a PNG", i+1, m[1])
			}
		}
	}
	if len(shown) == 0 {
		t.Fatal("README.md shows no image; is the image scanner broken?")
	}
	pngs, err := filepath.Glob(filepath.Join(root, "docs", "images", "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pngs {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			t.Fatal(err)
		}
		if !shown[rel] {
			t.Errorf("%s is not shown in README.md: show it in the screenshots table, or stop writing it", filepath.ToSlash(rel))
		}
	}
}
