package server

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// make run's NextToken key is random, private to the user and kept across
// restarts.
func TestPageTokenKeyIsRandomPrivateAndKept(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	k1, err := pageTokenKey(a)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := pageTokenKey(a)
	if err != nil {
		t.Fatal(err)
	}
	other, err := pageTokenKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Error("the key changed on restart")
	}
	if bytes.Equal(k1, other) {
		t.Error("two data directories got the same key")
	}
	if len(k1) < 32 {
		t.Errorf("key of %d bytes", len(k1))
	}
	fi, err := os.Stat(filepath.Join(a, "page-token.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
}

// make run's server bounds every phase of a connection.
func TestHTTPServerHasTimeouts(t *testing.T) {
	hs := (&Server{}).HTTPServer("127.0.0.1:0")
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 || hs.IdleTimeout <= 0 {
		t.Errorf("timeouts: header %v read %v write %v idle %v", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout)
	}
}
