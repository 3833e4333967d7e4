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
)

// ErrInvalidToken is returned by Parse for any token that was not issued by
// the Signer. One error for every failure so a caller cannot tell a forger
// which part was wrong.
var ErrInvalidToken = errors.New("invalid plaque token")

// Signer signs and checks plaque tokens under a key derived from the service
// secret. It is safe for concurrent use.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer whose key is HMAC-SHA256(secret, "menqian plaque
// v1"). It panics if secret is empty, because a Signer without a secret would
// accept plaques anyone can forge; the configuration always supplies one
// (MENQIAN_SECRET or the secret generated and stored in the database).
func NewSigner(secret []byte) *Signer {
	if len(secret) == 0 {
		panic("qrcodes: NewSigner with an empty secret")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(plaqueKeyLabel))
	return &Signer{key: m.Sum(nil)}
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
	if len(token) != TokenLen {
		return "", 0, ErrInvalidToken
	}
	// ASCII-only upper-casing: strings.ToUpper would turn 'ſ' (U+017F) into
	// 'S' and let a non-canonical spelling of a token through.
	up := []byte(token)
	for i, c := range up {
		if 'a' <= c && c <= 'z' {
			up[i] = c - 'a' + 'A'
		}
	}
	t := string(up)
	if !inAlphabet(t) {
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

// mac returns HMAC-SHA256(key, code "|" generation in decimal); the separator
// keeps the message unambiguous whatever the code length.
func (s *Signer) mac(code string, generation int) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(code))
	m.Write([]byte{'|'})
	m.Write(strconv.AppendInt(nil, int64(generation), 10))
	return m.Sum(nil)
}

// PlaqueURL returns the URL a plaque encodes: publicURL without trailing
// slashes, then "/q/" and the token.
func PlaqueURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/q/" + token
}
