package service

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
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

// text checks a one-line free-text field (a name, an address): trimmed, at
// most max characters, required when asked, and only characters one can see
// (see hiddenRune). Every text field of every write goes through text or
// lines.
func (f fieldErrors) text(field, v string, required bool, max int) string {
	return f.checkText(field, strings.TrimSpace(v), required, max, false)
}

// lines checks a free-text field that may run over several lines (a note, a
// reason, typed in a textarea) as text does, but lets line breaks through;
// CRLF, as browsers send a textarea, is kept as LF.
func (f fieldErrors) lines(field, v string, required bool, max int) string {
	return f.checkText(field, cleanLines(v), required, max, true)
}

// cleanLines is a multi-line text as stored: trimmed, with LF line breaks.
func cleanLines(v string) string { return strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n")) }

func (f fieldErrors) checkText(field, v string, required bool, max int, multiline bool) string {
	switch {
	case required && v == "":
		f.add(field, "必填")
	case utf8.RuneCountInString(v) > max:
		f.add(field, "过长（最多 "+itoa(max)+" 个字符）")
	case !utf8.ValidString(v):
		f.add(field, "含有非法字符（不是有效的 UTF-8 文本）")
	default:
		if r, bad := hiddenRune(v, multiline); bad {
			f.add(field, fmt.Sprintf("含有不允许的控制字符或不可见字符（U+%04X）", r))
		}
	}
	return v
}

// hiddenRune finds the first character of v that a reader cannot see or that
// changes how the text around it is shown: control characters (C0 but the
// line feed of a multi-line field, DEL, C1: an ESC or BEL reaches terminals
// and logs), format characters (the bidirectional controls U+202A–U+202E,
// U+2066–U+2069, U+200E/F and U+061C, which can make a shop's name or a note
// read backwards; zero-width spaces and joiners; the BOM U+FEFF; soft
// hyphens; tags), the line and paragraph separators U+2028/U+2029, and
// noncharacters. The zero-width joiner is let through between two emoji,
// where it joins them into one (👨‍👩‍👧). Ordinary and ideographic spaces and
// CJK punctuation are ordinary characters.
func hiddenRune(v string, multiline bool) (rune, bool) {
	var prev rune
	for i, r := range v {
		switch {
		case r == '\n' && multiline:
		case r == zeroWidthJoiner && emojiPart(prev) && emojiPart(firstRune(v[i+utf8.RuneLen(r):])):
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029', nonCharacter(r):
			return r, true
		}
		prev = r
	}
	return 0, false
}

const zeroWidthJoiner = '\u200d'

// emojiPart: a pictographic symbol, or what follows one inside an emoji
// (the emoji presentation selector, a skin tone).
func emojiPart(r rune) bool {
	return unicode.Is(unicode.So, r) || r == '\ufe0f' || (r >= 0x1f3fb && r <= 0x1f3ff)
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// nonCharacter: the 66 code points Unicode never assigns (U+FDD0–U+FDEF and
// the last two of every plane).
func nonCharacter(r rune) bool { return (r >= 0xfdd0 && r <= 0xfdef) || r&0xfffe == 0xfffe }

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
