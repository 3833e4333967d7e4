package qrcodes

import "testing"

func TestNewCode(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		got, err := NewCode()
		if err != nil {
			t.Fatalf("NewCode: %v", err)
		}
		if !ValidCode(got) {
			t.Fatalf("NewCode() = %q, not a valid code", got)
		}
		// 1000 draws from 2^40 collide with probability ~5e-7.
		if seen[got] {
			t.Fatalf("NewCode() repeated %q", got)
		}
		seen[got] = true
	}
}

// TestNewCodeUsesWholeAlphabet guards against an encoder that only ever emits
// part of the alphabet (and so far fewer than 40 bits).
func TestNewCodeUsesWholeAlphabet(t *testing.T) {
	used := make(map[rune]bool)
	for range 500 {
		code, err := NewCode()
		if err != nil {
			t.Fatalf("NewCode: %v", err)
		}
		for _, c := range code {
			used[c] = true
		}
	}
	if got, want := len(used), len(CodeAlphabet); got != want {
		t.Errorf("500 codes used %d distinct characters, want %d", got, want)
	}
}

func TestValidCode(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"0123ABCD", true},
		{"ZZZZZZZZ", true},
		{"00000000", true},
		{"0123abcd", false}, // stored codes are upper case
		{"0123ABC", false},
		{"0123ABCDE", false},
		{"", false},
		{"0123ABCI", false}, // I, L, O, U are not in the alphabet
		{"0123ABCL", false},
		{"0123ABCO", false},
		{"0123ABCU", false},
		{"../ABCDE", false},
		{"0123ABC\x00", false},
		{"0123ABCé", false},
	}
	for _, tt := range tests {
		if got := ValidCode(tt.code); got != tt.want {
			t.Errorf("ValidCode(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
