package qrcodes

import (
	"errors"
	"strings"
	"testing"
)

func testSigner() *Signer { return NewSigner([]byte("test service secret")) }

func TestTokenRoundTrip(t *testing.T) {
	s := testSigner()
	tests := []struct {
		code       string
		generation int
	}{
		{"00000000", 0},
		{"ZZZZZZZZ", MaxGeneration},
		{"0123ABCD", 1},
		{"K7M2Q9XW", 31},
		{"K7M2Q9XW", 32},
		{"HJKMNPQR", 517},
		{"STVWXYZ0", 1000},
	}
	for _, tt := range tests {
		token := s.Token(tt.code, tt.generation)
		if len(token) != TokenLen || TokenLen != 23 {
			t.Errorf("Token(%q, %d) = %q, length %d, want 23", tt.code, tt.generation, token, len(token))
		}
		if !strings.HasPrefix(token, tt.code) {
			t.Errorf("Token(%q, %d) = %q, want the code as prefix", tt.code, tt.generation, token)
		}
		if !inAlphabet(token) {
			t.Errorf("Token(%q, %d) = %q, outside the alphabet", tt.code, tt.generation, token)
		}
		for _, in := range []string{token, strings.ToLower(token)} {
			code, gen, err := s.Parse(in)
			if err != nil || code != tt.code || gen != tt.generation {
				t.Errorf("Parse(%q) = %q, %d, %v; want %q, %d, nil", in, code, gen, err, tt.code, tt.generation)
			}
		}
	}
}

func TestTokenDiffersByGeneration(t *testing.T) {
	s := testSigner()
	seen := make(map[string]int)
	for gen := range MaxGeneration + 1 {
		mac := s.Token("K7M2Q9XW", gen)[CodeLen+genLen:]
		if prev, ok := seen[mac]; ok {
			t.Fatalf("generations %d and %d share MAC %q", prev, gen, mac)
		}
		seen[mac] = gen
	}
}

func TestParseRejectsEverySingleCharacterChange(t *testing.T) {
	s := testSigner()
	token := s.Token("K7M2Q9XW", 3)
	rejected := 0
	for i := range len(token) {
		for _, c := range []byte(CodeAlphabet) {
			if c == token[i] {
				continue
			}
			bad := token[:i] + string(c) + token[i+1:]
			if code, gen, err := s.Parse(bad); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Parse(%q) (position %d changed) = %q, %d, %v; want ErrInvalidToken", bad, i, code, gen, err)
			}
			rejected++
		}
	}
	if want := TokenLen * (len(CodeAlphabet) - 1); rejected != want {
		t.Errorf("tried %d changes, want %d", rejected, want)
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	s := testSigner()
	token := s.Token("K7M2Q9XW", 3)
	// strings.ToUpper maps 'ſ' (2 bytes) to 'S' (1 byte): a parser that
	// upper-cases before checking the length would accept sToken with its S
	// spelled ſ.
	sToken := s.Token("STVWXYZ0", 3)
	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"extra character", token + "0"},
		{"leading space", " " + token[1:]},
		{"trailing newline", token[:TokenLen-1] + "\n"},
		{"letter O for zero", strings.ReplaceAll(token, "0", "O")},
		{"long s for S", "ſ" + sToken[1:]},
		{"long s for S, 23 bytes", "ſ" + sToken[2:]},
		{"code only", "K7M2Q9XW"},
		{"url", "/q/" + token},
	}
	for i := range len(token) {
		tests = append(tests, struct {
			name  string
			token string
		}{"truncated", token[:i]})
	}
	for _, tt := range tests {
		if tt.token == token {
			continue // ReplaceAll found no 0
		}
		if code, gen, err := s.Parse(tt.token); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Parse(%q) = %q, %d, %v; want ErrInvalidToken", tt.name, tt.token, code, gen, err)
		}
	}
}

func TestParseRejectsOtherSecret(t *testing.T) {
	mine := testSigner()
	for _, secret := range []string{"another secret", "test service secreT", "test service secret "} {
		token := NewSigner([]byte(secret)).Token("K7M2Q9XW", 3)
		if _, _, err := mine.Parse(token); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token %q under secret %q: Parse err = %v, want ErrInvalidToken", token, secret, err)
		}
	}
}

// TestPlaqueKeyIsDerived checks that the plaque MAC is not keyed by the raw
// secret, which is also what signs login tokens.
func TestPlaqueKeyIsDerived(t *testing.T) {
	secret := []byte("test service secret")
	raw := &Signer{key: secret}
	if got, notWant := NewSigner(secret).Token("K7M2Q9XW", 3), raw.Token("K7M2Q9XW", 3); got == notWant {
		t.Errorf("Token under the derived key equals Token under the raw secret: %q", got)
	}
}

func TestParseOldGeneration(t *testing.T) {
	s := testSigner()
	old := s.Token("K7M2Q9XW", 4)
	current := s.Token("K7M2Q9XW", 5)

	// The old plaque is authentic; it parses to its own generation so the
	// caller can see it is not the current one.
	code, gen, err := s.Parse(old)
	if err != nil || code != "K7M2Q9XW" || gen != 4 {
		t.Errorf("Parse(old) = %q, %d, %v; want K7M2Q9XW, 4, nil", code, gen, err)
	}

	// Bumping the generation characters without the MAC is a forgery.
	forged := old[:CodeLen] + current[CodeLen:CodeLen+genLen] + old[CodeLen+genLen:]
	if forged == old || forged == current {
		t.Fatalf("forged token %q is not a new token", forged)
	}
	if code, gen, err := s.Parse(forged); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Parse(forged %q) = %q, %d, %v; want ErrInvalidToken", forged, code, gen, err)
	}
}

func TestTokenPanicsOnBadInput(t *testing.T) {
	s := testSigner()
	tests := []struct {
		name       string
		code       string
		generation int
	}{
		{"negative generation", "K7M2Q9XW", -1},
		{"generation too large", "K7M2Q9XW", MaxGeneration + 1},
		{"short code", "K7M2Q9X", 0},
		{"lower-case code", "k7m2q9xw", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Token(%q, %d) did not panic", tt.code, tt.generation)
				}
			}()
			s.Token(tt.code, tt.generation)
		})
	}
}

func TestNewSignerPanicsOnEmptySecret(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewSigner(nil) did not panic")
		}
	}()
	NewSigner(nil)
}

func TestPlaqueURL(t *testing.T) {
	tests := []struct {
		publicURL, token, want string
	}{
		{"http://localhost:8080", "TOKEN", "http://localhost:8080/q/TOKEN"},
		{"http://localhost:8080/", "TOKEN", "http://localhost:8080/q/TOKEN"},
		{"https://mq.example.cn/base//", "TOKEN", "https://mq.example.cn/base/q/TOKEN"},
	}
	for _, tt := range tests {
		if got := PlaqueURL(tt.publicURL, tt.token); got != tt.want {
			t.Errorf("PlaqueURL(%q, %q) = %q, want %q", tt.publicURL, tt.token, got, tt.want)
		}
	}
}

// fuzzSecret signs the tokens in testdata/fuzz/FuzzParse, so the seed corpus
// holds tokens that Parse accepts as well as ones it rejects.
const fuzzSecret = "fuzz secret"

func FuzzParse(f *testing.F) {
	s := NewSigner([]byte(fuzzSecret))
	f.Add(s.Token("0123ABCD", 0))
	f.Add(strings.ToLower(s.Token("ZZZZZZZZ", MaxGeneration)))
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		code, gen, err := s.Parse(token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Parse(%q) err = %v, want ErrInvalidToken", token, err)
			}
			return
		}
		if got, want := s.Token(code, gen), strings.ToUpper(token); got != want {
			t.Fatalf("Parse(%q) = %q, %d; Token re-encodes to %q, want %q", token, code, gen, got, want)
		}
	})
}
