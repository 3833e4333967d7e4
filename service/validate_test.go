package service

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// publishedUSCCs are codes printed on real business licences (Alibaba China,
// Tencent Shenzhen, Huawei, and the GB 32100 example), the ground truth for
// the check-character arithmetic.
var publishedUSCCs = []string{"91330100716105852F", "9144030071526726XG", "914403001922038216", "91350100M000100Y43"}

func TestValidUSCCPublished(t *testing.T) {
	for _, code := range publishedUSCCs {
		if !ValidUSCC(code) {
			t.Errorf("ValidUSCC(%q) = false for a published code", code)
		}
		if got := USCCCheckChar(code[:17]); got != code[17] {
			t.Errorf("USCCCheckChar(%q) = %c, want %c", code[:17], got, code[17])
		}
	}
}

// generatedUSCCs makes n real-looking codes: registration office 9 (工商),
// type 1 or 2, a division code, then random characters of the alphabet.
func generatedUSCCs(n int) []string {
	r := rand.New(rand.NewPCG(2015, 32100))
	out := make([]string, 0, n)
	for range n {
		var b strings.Builder
		b.WriteString("9")
		b.WriteByte("12"[r.IntN(2)])
		b.WriteString([]string{"370303", "370302", "110105", "440300"}[r.IntN(4)])
		for b.Len() < 17 {
			b.WriteByte(usccAlphabet[r.IntN(len(usccAlphabet))])
		}
		out = append(out, b.String()+string(USCCCheckChar(b.String())))
	}
	return out
}

// TestValidUSCCEveryChange: every code completed by USCCCheckChar is valid,
// and every single-character change of it, to any character at all, and
// every swap of two different characters among the first 17, is rejected.
// (GB 32100's weights are distinct powers of 3 modulo the prime 31, so the
// check character catches all of these.)
func TestValidUSCCEveryChange(t *testing.T) {
	replacements := usccAlphabet + "IOSVZabcxyz -*\x00中"
	for _, code := range append(generatedUSCCs(40), publishedUSCCs...) {
		if !ValidUSCC(code) {
			t.Fatalf("ValidUSCC(%q) = false for a completed code", code)
		}
		for i := range len(code) {
			for _, r := range replacements {
				changed := code[:i] + string(r) + code[i+1:]
				if changed != code && ValidUSCC(changed) {
					t.Errorf("ValidUSCC(%q) = true: position %d of %q changed to %q", changed, i, code, r)
				}
			}
		}
		for i := range 17 {
			for j := i + 1; j < 17; j++ {
				if code[i] == code[j] {
					continue
				}
				b := []byte(code)
				b[i], b[j] = b[j], b[i]
				if ValidUSCC(string(b)) {
					t.Errorf("ValidUSCC(%q) = true: positions %d and %d of %q swapped", b, i, j, code)
				}
			}
		}
	}
}

func TestValidUSCCShape(t *testing.T) {
	valid := publishedUSCCs[0]
	for _, s := range []string{"", valid[:17], valid + "0", strings.ToLower(valid), " " + valid[1:], valid[:17] + "\n",
		"abcdefghijklmnopqr", "000000000000000000" + "0", "91330100716105852Ｆ"} {
		if ValidUSCC(s) {
			t.Errorf("ValidUSCC(%q) = true", s)
		}
	}
	if !ValidUSCC("000000000000000000") {
		t.Errorf("all zeros has check character 0 and is well formed")
	}
}

func TestValidPhone(t *testing.T) {
	for _, c := range []struct {
		phone string
		want  bool
	}{
		{"13853312345", true},
		{"19912345678", true},
		{"0533-2345678", true},
		{"05332345678", true},
		{"010-12345678", true},
		{"0755-87654321", true},
		{"12853312345", false},    // no 12x mobile prefix
		{"1385331234", false},     // 10 digits
		{"138533123456", false},   // 12 digits
		{"23853312345", false},    // not a mobile, no area code
		{"0533-0345678", false},   // local numbers do not start with 0
		{"0033-2345678", false},   // area codes do not start with 00
		{"0533-23456", false},     // local part too short
		{"0533-234567890", false}, // local part too long
		{"+8613853312345", false},
		{" 13853312345", false},
		{"13853312345 ", false},
		{"138-5331-2345", false},
		{"138a5312345", false},
		{"", false},
	} {
		if got := ValidPhone(c.phone); got != c.want {
			t.Errorf("ValidPhone(%q) = %v, want %v", c.phone, got, c.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for _, c := range []struct{ phone, want string }{
		{"13853312345", "138****2345"},
		{"0533-2345678", "053*****5678"},
		{"05332345678", "053****5678"},
		{"010-12345678", "010*****5678"},
		{"12345", "*****"},
		{"", ""},
	} {
		if got := MaskPhone(c.phone); got != c.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", c.phone, got, c.want)
		}
	}
	// Every valid number keeps its length, shows only its first 3 and last 4
	// characters, and hides at least 3.
	for _, p := range []string{"13853312345", "19912345678", "0533-2345678", "05332345678", "010-12345678", "0755-87654321"} {
		m := MaskPhone(p)
		hidden := strings.Count(m, "*")
		if len(m) != len(p) || m[:3] != p[:3] || m[len(m)-4:] != p[len(p)-4:] || hidden != len(p)-7 || hidden < 3 {
			t.Errorf("MaskPhone(%q) = %q", p, m)
		}
	}
}

func TestFieldText(t *testing.T) {
	for _, c := range []struct {
		in       string
		required bool
		max      int
		want     string
		problem  bool
	}{
		{"  张记烧烤 ", true, 128, "张记烧烤", false},
		{"", true, 128, "", true},
		{"   ", true, 128, "", true},
		{"", false, 128, "", false},
		{strings.Repeat("店", 128), true, 128, strings.Repeat("店", 128), false}, // runes, not bytes
		{strings.Repeat("店", 129), true, 128, "", true},
		{"张记\n烧烤", true, 128, "", true},
		{"张记\t烧烤", true, 128, "", true},
		{"张记\x00烧烤", true, 128, "", true},
		{"张记\xff烧烤", true, 128, "", true},
	} {
		f := fieldErrors{}
		got := f.text("name", c.in, c.required, c.max)
		if (f["name"] != "") != c.problem {
			t.Errorf("text(%q, %v, %d): problem %q, want problem %v", c.in, c.required, c.max, f["name"], c.problem)
		}
		if !c.problem && got != c.want {
			t.Errorf("text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
