package qrcodes

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
)

// CertificateTokenLen is the length of a credit certificate token: the
// certificate's serial (CodeLen characters) and a truncated MAC of the
// serial and of what the certificate says, so that neither a made-up
// serial nor an edited certificate checks out.
const CertificateTokenLen = CodeLen + macLen

// ErrInvalidCertificate is returned by CertificateSerial for a token that
// cannot be a certificate's; one error for every failure.
var ErrInvalidCertificate = errors.New("invalid certificate token")

// NewSerial returns a fresh random certificate serial of CodeLen characters
// (crypto/rand: serials tell nothing about how many certificates exist).
// The caller retries on a uniqueness conflict.
func NewSerial() (string, error) { return NewCode() }

// CertificateToken returns the token of the certificate serial that states
// facts: the serial and the first 65 bits of HMAC(certificate key, serial
// "|" facts joined by "|"). Only the last fact may contain a "|" (put free
// text, such as the shop's name, last). It panics if serial is not a valid
// code: serials come from NewSerial and the database.
func (s *Signer) CertificateToken(serial string, facts ...string) string {
	if !ValidCode(serial) {
		panic(fmt.Sprintf("qrcodes: CertificateToken with invalid serial %q", serial))
	}
	var b strings.Builder
	b.Grow(CertificateTokenLen)
	b.WriteString(serial)
	appendBits(&b, macOf(s.certKey, append([]string{serial}, facts...)...), macLen)
	return b.String()
}

// CertificateSerial returns the serial a token names, in any ASCII case,
// without checking its MAC (which needs the facts stored under the serial:
// see CheckCertificate). Any malformed token is ErrInvalidCertificate.
func CertificateSerial(token string) (string, error) {
	t, ok := canonical(token, CertificateTokenLen)
	if !ok {
		return "", ErrInvalidCertificate
	}
	return t[:CodeLen], nil
}

// CheckCertificate reports whether token is the token of serial stating
// facts: a token that was made up, or belongs to other facts (an edited
// certificate), is false.
func (s *Signer) CheckCertificate(token, serial string, facts ...string) bool {
	t, ok := canonical(token, CertificateTokenLen)
	if !ok || !ValidCode(serial) || t[:CodeLen] != serial {
		return false
	}
	return hmac.Equal([]byte(t), []byte(s.CertificateToken(serial, facts...)))
}

// CertificateURL returns the URL a certificate's QR code encodes: publicURL
// without trailing slashes, then "/v/" and the token.
func CertificateURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/v/" + token
}
