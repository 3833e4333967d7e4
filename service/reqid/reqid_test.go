package reqid

import "testing"

func TestFrom(t *testing.T) {
	a, b := From(""), From("")
	if a == b || len(a) < 11 {
		t.Errorf("two new ids %q and %q: want distinct, prefixed", a, b)
	}
	for _, c := range []struct{ in, want string }{
		{"abcdef12", "abcdef12"},
		{"req-2026-12-05-000001", "req-2026-12-05-000001"},
	} {
		if got := From(c.in); got != c.want {
			t.Errorf("From(%q) = %q, want it kept", c.in, got)
		}
	}
	for _, bad := range []string{"short", "has space in it", "line\nbreak-xx", "中文请求编号1234", string(make([]byte, 65))} {
		if got := From(bad); got == bad {
			t.Errorf("From(%q) kept an unsafe id", bad)
		}
	}
}
