package simulation

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// EmailAccountID is the UID of the standalone account behind a login email
// in the simulation: deterministic, so the same email always joins as the
// same account, and case-insensitive like login names.
func EmailAccountID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	n := binary.BigEndian.Uint64(sum[:8]) % 9_000_000_000_000_000
	return fmt.Sprintf("%016d", n+1_000_000_000_000_000) // 16 digits, no leading zero
}

// isEmail accepts plain addresses (no display names, no quoting): what the
// console sends and what RD's login emails look like.
func isEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || domain == "" || strings.Contains(domain, "@") {
		return false
	}
	for _, r := range local {
		if !(r < utf8.RuneSelf && (isAlnum(byte(r)) || strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r))) {
			return false
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomToken returns n random lowercase letters and digits.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b)
}
