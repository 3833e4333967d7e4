package service

import (
	"strings"
	"testing"
	"unicode"
)

// TestTextRefusesHiddenCharacters: every control, bidirectional, zero-width,
// separator and noncharacter code point is refused by text and lines with a
// field error naming it, wherever it stands; ordinary text, including CJK
// punctuation, the ideographic space and emoji (joined ones too), passes, and
// only lines lets a line break through (CRLF stored as LF).
func TestTextRefusesHiddenCharacters(t *testing.T) {
	bad := []struct {
		name string
		r    rune
	}{
		{"NUL", 0x00}, {"BEL", 0x07}, {"backspace", 0x08}, {"tab", 0x09}, {"vertical tab", 0x0b}, {"form feed", 0x0c},
		{"carriage return alone", 0x0d}, {"ESC", 0x1b}, {"unit separator", 0x1f}, {"DEL", 0x7f},
		{"C1 PAD", 0x80}, {"C1 NEL", 0x85}, {"C1 CSI", 0x9b}, {"C1 APC", 0x9f},
		{"soft hyphen", 0xad}, {"Arabic letter mark", 0x61c},
		{"zero-width space", 0x200b}, {"ZWNJ", 0x200c}, {"ZWJ between letters", 0x200d},
		{"LRM", 0x200e}, {"RLM", 0x200f}, {"line separator", 0x2028}, {"paragraph separator", 0x2029},
		{"LRE", 0x202a}, {"RLE", 0x202b}, {"PDF", 0x202c}, {"LRO", 0x202d}, {"RLO", 0x202e},
		{"word joiner", 0x2060}, {"LRI", 0x2066}, {"RLI", 0x2067}, {"FSI", 0x2068}, {"PDI", 0x2069},
		{"BOM", 0xfeff}, {"interlinear annotation", 0xfff9}, {"noncharacter FFFE", 0xfffe}, {"noncharacter FDD0", 0xfdd0},
		{"noncharacter 1FFFF", 0x1ffff}, {"tag", 0xe0041},
	}
	for _, c := range bad {
		for _, v := range []string{"张记" + string(c.r) + "烧烤", string(c.r) + "张记", "张记" + string(c.r)} {
			for _, multi := range []bool{false, true} {
				f := fieldErrors{}
				if multi {
					f.lines("note", v, true, 64)
				} else {
					f.text("name", v, true, 64)
				}
				for _, problem := range f {
					if !strings.Contains(problem, "不允许的控制字符或不可见字符") {
						t.Errorf("%s (multi-line %t) in %q: %q", c.name, multi, v, problem)
					}
				}
				if len(f) != 1 && !unicode.IsSpace(c.r) { // white space is trimmed away at the ends
					t.Errorf("%s (multi-line %t) in %q accepted", c.name, multi, v)
				}
				if len(f) != 1 && strings.HasPrefix(v, "张记"+string(c.r)+"烧") {
					t.Errorf("%s (multi-line %t) inside %q accepted", c.name, multi, v)
				}
			}
		}
	}
	good := []string{"张记烧烤（总店）", "柳泉路 88 号", "王　小二", "“好运来”水果·鲜花；营业中！", "A&B 便利店 #2", "門前五包",
		"咖啡☕", "👍🏽好评", "一家人👨‍👩‍👧", "🏳️‍🌈", "𠮷野家"}
	for _, v := range good {
		f := fieldErrors{}
		if got := f.text("name", v, true, 64); got != v || len(f) != 0 {
			t.Errorf("text(%q) = %q, %v", v, got, f)
		}
	}
	f := fieldErrors{}
	if got := f.lines("note", "门口堆放杂物。\r\n已提醒店主\n次日复查", true, 64); got != "门口堆放杂物。\n已提醒店主\n次日复查" || len(f) != 0 {
		t.Errorf("lines = %q, %v", got, f)
	}
	f = fieldErrors{}
	if f.text("name", "两行\n店名", true, 64); f["name"] == "" {
		t.Error("a line break in a one-line field was accepted")
	}
}
