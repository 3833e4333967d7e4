package qrcodes

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"
)

// Token layout: the merchant code, the plaque generation and a truncated MAC,
// all in CodeAlphabet so the whole URL stays in one case and short enough for
// a low QR version.
const (
	// TokenLen is the length of a plaque token.
	TokenLen = CodeLen + genLen + macLen
	// MaxGeneration is the highest plaque generation a token can carry; two
	// base-32 characters hold 0..1023 reissues of one merchant's plaque.
	MaxGeneration = 1<<(5*genLen) - 1

	genLen = 2
	// macLen characters carry 65 bits of HMAC-SHA256: far beyond what an
	// online guesser can try against a rate-limited endpoint.
	macLen = 13
	// plaqueKeyLabel derives the plaque key from the service secret, so the
	// same secret can also sign login tokens without one kind of token ever
	// being valid as the other.
	plaqueKeyLabel = "menqian plaque v1"
	// certificateKeyLabel derives the credit certificates' key the same way.
	certificateKeyLabel = "menqian certificate v1"
)

// ErrInvalidToken is returned by Parse for any token that was not issued by
// the Signer. One error for every failure so a caller cannot tell a forger
// which part was wrong.
var ErrInvalidToken = errors.New("invalid plaque token")

// Signer signs and checks plaque tokens and credit certificate tokens
// (certificate.go) under keys derived from the service secret. It is safe
// for concurrent use.
type Signer struct {
	key     []byte // plaques
	certKey []byte // credit certificates
}

// NewSigner returns a Signer whose plaque key is HMAC-SHA256(secret,
// "menqian plaque v1") and whose certificate key is HMAC-SHA256(secret,
// "menqian certificate v1"). It panics if secret is empty, because a Signer
// without a secret would accept plaques anyone can forge; the configuration
// always supplies one (MENQIAN_SECRET or the secret generated and stored in
// the database).
func NewSigner(secret []byte) *Signer {
	if len(secret) == 0 {
		panic("qrcodes: NewSigner with an empty secret")
	}
	return &Signer{key: macOf(secret, plaqueKeyLabel), certKey: macOf(secret, certificateKeyLabel)}
}

// Token returns the TokenLen-character token for a merchant code and plaque
// generation: the code, the generation as two base-32 characters and the first
// 65 bits of HMAC(key, code "|" generation). It panics if code is not a valid
// code or generation is outside 0..MaxGeneration; both come from the database,
// so either is a programming error, not bad user input.
func (s *Signer) Token(code string, generation int) string {
	if !ValidCode(code) {
		panic("qrcodes: Token with invalid code " + strconv.Quote(code))
	}
	if generation < 0 || generation > MaxGeneration {
		panic("qrcodes: Token with generation " + strconv.Itoa(generation) + " out of range")
	}
	var b strings.Builder
	b.Grow(TokenLen)
	b.WriteString(code)
	b.WriteByte(CodeAlphabet[generation>>5])
	b.WriteByte(CodeAlphabet[generation&31])
	appendBits(&b, s.mac(code, generation), macLen)
	return b.String()
}

// Parse checks a token and returns the merchant code and plaque generation it
// names. It accepts the token in any ASCII case, since phones and people
// retype URLs in lower case. Every failure is ErrInvalidToken. A valid token
// for an older generation parses successfully: the caller compares generation
// with the merchant's current one and rejects a reissued plaque.
func (s *Signer) Parse(token string) (code string, generation int, err error) {
	t, ok := canonical(token, TokenLen)
	if !ok {
		return "", 0, ErrInvalidToken
	}
	code = t[:CodeLen]
	generation = strings.IndexByte(CodeAlphabet, t[CodeLen])<<5 |
		strings.IndexByte(CodeAlphabet, t[CodeLen+1])
	want := s.Token(code, generation)
	if !hmac.Equal([]byte(want[CodeLen+genLen:]), []byte(t[CodeLen+genLen:])) {
		return "", 0, ErrInvalidToken
	}
	return code, generation, nil
}

// canonical returns token upper-cased if it has n characters, all of
// CodeAlphabet once upper-cased. ASCII-only upper-casing: strings.ToUpper
// would turn 'ſ' (U+017F) into 'S' and let a non-canonical spelling of a
// token through.
func canonical(token string, n int) (string, bool) {
	if len(token) != n {
		return "", false
	}
	up := []byte(token)
	for i, c := range up {
		if 'a' <= c && c <= 'z' {
			up[i] = c - 'a' + 'A'
		}
	}
	t := string(up)
	return t, inAlphabet(t)
}

// mac returns HMAC-SHA256(key, code "|" generation in decimal).
func (s *Signer) mac(code string, generation int) []byte {
	return macOf(s.key, code, strconv.Itoa(generation))
}

// macOf returns HMAC-SHA256(key, the fields joined by "|"); the separator
// keeps the message unambiguous whatever the fields' lengths, as long as no
// field but the last may hold a "|".
func macOf(key []byte, fields ...string) []byte {
	m := hmac.New(sha256.New, key)
	for i, f := range fields {
		if i > 0 {
			m.Write([]byte{'|'})
		}
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}

// PlaqueURL returns the URL a plaque encodes: publicURL without trailing
// slashes, then "/q/" and the token.
func PlaqueURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/q/" + token
}
