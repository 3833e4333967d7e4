package qrcodes

import (
	"strings"
	"testing"
)

// TestCertificateTokens: a token checks out only for its serial and the
// facts it was made for, under the secret that made it, in any case; a
// plaque token is never a certificate's, nor the other way round.
func TestCertificateTokens(t *testing.T) {
	s := NewSigner([]byte("test-secret-0123456789"))
	serial, err := NewSerial()
	if err != nil {
		t.Fatal(err)
	}
	facts := []string{"7K3M9QZA", "4", "92", "2026-11", "1795000000000", "张记烧烤"}
	tok := s.CertificateToken(serial, facts...)
	if len(tok) != CertificateTokenLen || !strings.HasPrefix(tok, serial) {
		t.Fatalf("token %q: want %d characters starting with the serial %s", tok, CertificateTokenLen, serial)
	}
	if got, err := CertificateSerial(strings.ToLower(tok)); err != nil || got != serial {
		t.Errorf("CertificateSerial(lower case) = %q, %v; want %s", got, err, serial)
	}
	if !s.CheckCertificate(strings.ToLower(tok), serial, facts...) {
		t.Errorf("the token does not check out for its own facts")
	}
	edited := func(i int, v string) []string {
		f := append([]string(nil), facts...)
		f[i] = v
		return f
	}
	flip := func(i int) string {
		b := []byte(tok)
		b[i] = CodeAlphabet[(strings.IndexByte(CodeAlphabet, b[i])+1)%32]
		return string(b)
	}
	for _, c := range []struct {
		name, token, serial string
		facts               []string
	}{
		{"another star", tok, serial, edited(1, "5")},
		{"another score", tok, serial, edited(2, "99")},
		{"another shop name", tok, serial, edited(5, "李家面馆")},
		{"a changed MAC character", flip(CertificateTokenLen - 1), serial, facts},
		{"a changed serial", flip(0), serial, facts},
		{"another secret", NewSigner([]byte("another-secret-0123456")).CertificateToken(serial, facts...), serial, facts},
		{"a plaque token", s.Token(serial, 0), serial, facts},
		{"too short", tok[:CertificateTokenLen-1], serial, facts},
		{"outside the alphabet", tok[:CertificateTokenLen-1] + "U", serial, facts},
	} {
		if s.CheckCertificate(c.token, c.serial, c.facts...) {
			t.Errorf("%s: checks out", c.name)
		}
	}
	if _, _, err := s.Parse(s.CertificateToken(serial, facts...) + "00"); err == nil {
		t.Errorf("a certificate token (padded to a plaque token's length) parses as a plaque")
	}
	for _, bad := range []string{"", tok + "0", "IIIIIIIIIIIIIIIIIIIII", tok[:20] + "ſ"} {
		if _, err := CertificateSerial(bad); err != ErrInvalidCertificate {
			t.Errorf("CertificateSerial(%q) = %v, want ErrInvalidCertificate", bad, err)
		}
	}
	if got := CertificateURL("https://mq.example/", tok); got != "https://mq.example/v/"+tok {
		t.Errorf("CertificateURL = %s", got)
	}
	if v, err := Version(CertificateURL("https://menqian.zibo.gov.cn", tok)); err != nil || v > 4 {
		t.Errorf("a certificate URL needs QR version %d (%v), want at most 4", v, err)
	}
}
