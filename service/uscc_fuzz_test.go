package service

import (
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
)

// usccCheckOf computes a GB 32100-2015 check character from scratch (the
// weights are 3^i mod 31), independently of usccWeights and USCCCheckChar;
// ok is false when a character is outside the standard's alphabet.
func usccCheckOf(first17 string) (check byte, ok bool) {
	sum, w := 0, 1
	for i := range 17 {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * w
		w = w * 3 % 31
	}
	return usccAlphabet[(31-sum%31)%31], true
}

// FuzzUSCC: ValidUSCC accepts a string exactly when it is 18 characters of
// the alphabet ending in the check character computed here, and
// USCCCheckChar agrees; the merchant validator stores exactly the
// upper-cased, trimmed input and only when ValidUSCC accepts it; and a code
// completed from the fuzzer's bytes is valid while every change of one
// character to any other character of the alphabet (or to the fuzzer's
// byte) is invalid: distinct weights modulo the prime 31 catch them all.
func FuzzUSCC(f *testing.F) {
	for _, code := range publishedUSCCs {
		f.Add(code, uint8(0), byte('0'))
	}
	f.Add("91330100716105852f", uint8(17), byte('Z'))
	f.Add(" 9144030071526726xg\t", uint8(3), byte('I'))
	f.Add("000000000000000000", uint8(17), byte('1'))
	f.Add("9137030300000000ſ0", uint8(16), byte(0xC5))
	f.Add("", uint8(0), byte(0))
	f.Fuzz(func(t *testing.T, s string, pos uint8, c byte) {
		check, ok := usccCheckOf(s + strings.Repeat("\x00", max(0, 17-len(s))))
		want := len(s) == 18 && ok && s[17] == check
		if got := ValidUSCC(s); got != want {
			t.Fatalf("ValidUSCC(%q) = %v, want %v", s, got, want)
		}
		if len(s) >= 17 && ok {
			if got := USCCCheckChar(s[:17]); got != check {
				t.Fatalf("USCCCheckChar(%q) = %c, want %c", s[:17], got, check)
			}
		}

		// The merchant validator.
		var m models.Merchant
		fe, cols := fieldErrors{}, map[string]any{}
		checkMerchantFields(fe, MerchantInput{USCC: &s}, &m, cols, false)
		norm := strings.ToUpper(strings.TrimSpace(s))
		switch _, refused := fe["uscc"]; {
		case norm == "":
			if refused || m.USCC != nil {
				t.Fatalf("blank USCC %q: refused %v, stored %v", s, refused, m.USCC)
			}
		case ValidUSCC(norm):
			if refused || m.USCC == nil || *m.USCC != norm {
				t.Fatalf("USCC %q: refused %v (%s), stored %v; want %q stored", s, refused, fe["uscc"], m.USCC, norm)
			}
		default:
			if !refused || m.USCC != nil {
				t.Fatalf("USCC %q: refused %v, stored %v; want refused", s, refused, m.USCC)
			}
		}

		// A code completed from the fuzzer's bytes, and its one-character changes.
		var b [17]byte
		for i := range b {
			if i < len(s) {
				b[i] = usccAlphabet[int(s[i])%len(usccAlphabet)]
			} else {
				b[i] = usccAlphabet[i]
			}
		}
		code := string(b[:]) + string(USCCCheckChar(string(b[:])))
		if !ValidUSCC(code) {
			t.Fatalf("ValidUSCC(%q) = false for a completed code", code)
		}
		i := int(pos) % len(code)
		for _, r := range []byte(usccAlphabet + string(c)) {
			if r == code[i] {
				continue
			}
			changed := code[:i] + string(r) + code[i+1:]
			if ValidUSCC(changed) {
				t.Fatalf("ValidUSCC(%q) = true: character %d of the valid %q changed to %q", changed, i, code, r)
			}
		}
	})
}
