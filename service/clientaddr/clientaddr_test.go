package clientaddr

import (
	"net/http/httptest"
	"testing"
)

func TestOf(t *testing.T) {
	r, err := New([]string{"10.0.0.0/8", "127.0.0.1", " ::1 "})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy header", "203.0.113.7:5555", nil, "203.0.113.7"},
		{"an untrusted peer's header is ignored", "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"behind a trusted proxy", "127.0.0.1:40000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a forged left-most entry is skipped", "127.0.0.1:40000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted hops", "10.1.2.3:80", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"headers on two lines", "10.1.2.3:80", []string{"1.2.3.4", "198.51.100.2, 10.9.9.9"}, "198.51.100.2"},
		{"only proxies", "127.0.0.1:1", []string{"10.0.0.1"}, "10.0.0.1"},
		{"garbage stops at the last trusted hop", "127.0.0.1:1", []string{"198.51.100.1, nonsense"}, "127.0.0.1"},
		{"a trusted IPv6 proxy", "[::1]:443", []string{"2001:db8::7"}, "2001:db8::7"},
		{"trusted proxy without a header", "127.0.0.1:1", nil, "127.0.0.1"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = c.remote
		for _, v := range c.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		if got := r.Of(req); got != c.want {
			t.Errorf("%s: Of = %q, want %q", c.name, got, c.want)
		}
	}
	var none *Resolver
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := none.Of(req); got != "127.0.0.1" {
		t.Errorf("a nil Resolver trusts %q", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.local", "10.0.0"} {
		if _, err := New([]string{bad}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}
