package qrcodes

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// CodeAlphabet is the Crockford base-32 alphabet used for merchant codes and
// tokens. It leaves out I, L, O and U so that a code read aloud or copied by
// hand from a plaque is not mistaken for another.
const CodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLen is the length of a merchant code: 8 characters of 5 bits each, 40
// random bits, so codes cannot be enumerated or guessed from database ids.
const CodeLen = 8

// NewCode returns a fresh random merchant code of CodeLen characters. It is
// drawn from crypto/rand and never derived from a database id, so the public
// code reveals nothing about how many merchants exist or when one was added.
// The caller must still retry on a uniqueness conflict: 40 bits make collisions
// rare, not impossible.
func NewCode() (string, error) {
	var raw [5]byte // 40 bits = 8 base-32 characters exactly
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("qrcodes: random code: %w", err)
	}
	var b strings.Builder
	b.Grow(CodeLen)
	appendBits(&b, raw[:], CodeLen)
	return b.String(), nil
}

// ValidCode reports whether code is exactly CodeLen characters of
// CodeAlphabet. It is strict about case because codes are stored upper case;
// normalise user input with strings.ToUpper before calling it.
func ValidCode(code string) bool {
	return len(code) == CodeLen && inAlphabet(code)
}

// inAlphabet reports whether every byte of s is in CodeAlphabet.
func inAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(CodeAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// appendBits writes the first n*5 bits of src, most significant first, as n
// characters of CodeAlphabet.
func appendBits(b *strings.Builder, src []byte, n int) {
	for i := range n {
		var v byte
		for j := range 5 {
			bit := i*5 + j
			v = v<<1 | (src[bit/8]>>(7-bit%8))&1
		}
		b.WriteByte(CodeAlphabet[v])
	}
}
