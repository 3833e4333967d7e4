package qrcodes

import (
	"encoding/binary"
	"strings"
	"testing"
)

// fuzzCode turns 40 bits of n into a merchant code (or a certificate
// serial), so the fuzzer reaches every code.
func fuzzCode(n uint64) string {
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], n<<24)
	var b strings.Builder
	appendBits(&b, raw[:5], CodeLen)
	return b.String()
}

// changedAt returns tok with the byte at i replaced by c, and whether that
// is another token at all (not the same one in another ASCII case).
func changedAt(tok string, i int, c byte) (string, bool) {
	if i < 0 || i >= len(tok) {
		return "", false
	}
	up := c
	if 'a' <= c && c <= 'z' {
		up = c - 'a' + 'A'
	}
	if up == tok[i] {
		return "", false
	}
	return tok[:i] + string(c) + tok[i+1:], true
}

// sameToken reports whether guess is tok in some ASCII case.
func sameToken(guess, tok string) bool {
	if len(guess) != len(tok) {
		return false
	}
	for i := range len(tok) {
		if c, _ := changedAt(tok, i, guess[i]); c != "" {
			return false
		}
	}
	return true
}

// FuzzPlaqueToken: a plaque token issued for a code and generation parses
// to exactly them, in any ASCII case, and under no other secret; changing
// any one character of it to any other byte (the fuzzer's, and the next
// character of the alphabet at every position) makes Parse refuse it.
// (FuzzParse in token_test.go holds the other half: any string parses only
// as the token issued for what it names.)
func FuzzPlaqueToken(f *testing.F) {
	s := NewSigner([]byte(fuzzSecret))
	other := NewSigner([]byte(fuzzSecret + "!"))
	f.Add(uint64(0), uint16(0), uint8(0), byte('1'))
	f.Add(uint64(1<<40-1), uint16(MaxGeneration), uint8(TokenLen-1), byte('0'))
	f.Add(uint64(0x0123456789), uint16(1), uint8(CodeLen), byte('a'))
	f.Add(uint64(0xABCDE12345), uint16(513), uint8(CodeLen+1), byte(0xC5))
	f.Fuzz(func(t *testing.T, bits uint64, g uint16, pos uint8, c byte) {
		code, gen := fuzzCode(bits), int(g)%(MaxGeneration+1)
		tok := s.Token(code, gen)
		if len(tok) != TokenLen || !strings.HasPrefix(tok, code) {
			t.Fatalf("Token(%s, %d) = %q: want %d characters starting with the code", code, gen, tok, TokenLen)
		}
		for _, spelling := range []string{tok, strings.ToLower(tok)} {
			if gotCode, gotGen, err := s.Parse(spelling); err != nil || gotCode != code || gotGen != gen {
				t.Fatalf("Parse(%q) = %q, %d, %v; want %s, %d", spelling, gotCode, gotGen, err, code, gen)
			}
		}
		if _, _, err := other.Parse(tok); err == nil {
			t.Fatalf("a token of another secret parses: %q", tok)
		}
		if changed, ok := changedAt(tok, int(pos)%TokenLen, c); ok {
			if _, _, err := s.Parse(changed); err != ErrInvalidToken {
				t.Fatalf("Parse(%q) = %v: byte %d of %q changed to %q still parses", changed, err, int(pos)%TokenLen, tok, c)
			}
		}
		for i := range TokenLen {
			next := CodeAlphabet[(strings.IndexByte(CodeAlphabet, tok[i])+1)%len(CodeAlphabet)]
			if changed, ok := changedAt(tok, i, next); ok {
				if _, _, err := s.Parse(changed); err != ErrInvalidToken {
					t.Fatalf("Parse(%q) = %v: character %d of %q changed still parses", changed, err, i, tok)
				}
			}
		}
	})
}

// FuzzCertificateToken: the token issued for a serial and its facts checks
// out for exactly them, in any ASCII case; any other string (the fuzzer's),
// any one character changed, or any fact changed is refused; and
// CertificateSerial reads the serial back. Facts are split from the
// fuzzer's text at NUL bytes; a "|" is kept to the last fact, as
// CertificateToken asks of its callers.
func FuzzCertificateToken(f *testing.F) {
	s := NewSigner([]byte(fuzzSecret))
	f.Add(uint64(0x1F2E3D4C5B), "7K3M9QZA\x004\x0092\x002026-11\x001795000000000\x00张记烧烤", "", uint8(0), byte('0'))
	f.Add(uint64(0), "", "00000000000000000000", uint8(20), byte('Z'))
	f.Add(uint64(1<<40-1), "a\x00b|c", "ZZZZZZZZ0000000000000", uint8(8), byte('u'))
	f.Fuzz(func(t *testing.T, bits uint64, text, guess string, pos uint8, c byte) {
		serial := fuzzCode(bits)
		facts := strings.Split(text, "\x00")
		for i := range len(facts) - 1 {
			facts[i] = strings.ReplaceAll(facts[i], "|", "/")
		}
		tok := s.CertificateToken(serial, facts...)
		if len(tok) != CertificateTokenLen || !strings.HasPrefix(tok, serial) {
			t.Fatalf("CertificateToken(%s) = %q: want %d characters starting with the serial", serial, tok, CertificateTokenLen)
		}
		for _, spelling := range []string{tok, strings.ToLower(tok)} {
			if !s.CheckCertificate(spelling, serial, facts...) {
				t.Fatalf("CheckCertificate(%q, %s, %q) = false for the token issued", spelling, serial, facts)
			}
			if got, err := CertificateSerial(spelling); err != nil || got != serial {
				t.Fatalf("CertificateSerial(%q) = %q, %v; want %s", spelling, got, err, serial)
			}
		}
		if got, want := s.CheckCertificate(guess, serial, facts...), sameToken(guess, tok); got != want {
			t.Fatalf("CheckCertificate(%q) = %v, want %v (issued %q)", guess, got, want, tok)
		}
		if changed, ok := changedAt(tok, int(pos)%CertificateTokenLen, c); ok && s.CheckCertificate(changed, serial, facts...) {
			t.Fatalf("byte %d of %q changed to %q still checks out", int(pos)%CertificateTokenLen, tok, c)
		}
		for i := range facts {
			edited := append([]string(nil), facts...)
			edited[i] += "x"
			if s.CheckCertificate(tok, serial, edited...) {
				t.Fatalf("the token of %q checks out for the edited facts %q", facts, edited)
			}
		}
		if s.CheckCertificate(tok, serial, append(facts, "")...) {
			t.Fatalf("the token of %q checks out with one more fact", facts)
		}
	})
}
