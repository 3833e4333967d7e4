package service

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// usccAlphabet is the GB 32100-2015 character set (no I, O, S, V, Z).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidUSCC checks a 统一社会信用代码: 18 characters of the standard's alphabet
// whose last is the mod-31 check character of the first 17.
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, s[i])
		if v < 0 {
			return false
		}
		sum += v * usccWeights[i]
	}
	check := (31 - sum%31) % 31
	return s[17] == usccAlphabet[check]
}

// USCCCheckChar returns the check character completing 17 characters (for sample data).
func USCCCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccAlphabet, first17[i]) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

var (
	mobileRe   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	landlineRe = regexp.MustCompile(`^0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}$`)
	countyRe   = regexp.MustCompile(`^[1-8][0-9]{5}$`)
	usernameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,64}$`)
)

// ValidPhone accepts mainland mobile numbers and landlines with area code.
func ValidPhone(s string) bool { return mobileRe.MatchString(s) || landlineRe.MatchString(s) }

// MaskPhone hides the middle of a phone number for public views: 138****5678.
func MaskPhone(s string) string {
	if len(s) < 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}

// text checks a free-text field: trimmed, at most max characters, required when asked.
func (f fieldErrors) text(field, v string, required bool, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		f.add(field, "必填")
	case utf8.RuneCountInString(v) > max:
		f.add(field, "过长（最多 "+itoa(max)+" 个字符）")
	case !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n\t"):
		f.add(field, "含有非法字符")
	}
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func uniqueIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
