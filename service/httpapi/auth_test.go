package httpapi_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// loginFrom posts a login from ip (any address of 127.0.0.0/8), so the API
// sees another client address; headers are name, value pairs.
func (e *env) loginFrom(ip, username, password string, headers ...string) (status int, h http.Header, code string) {
	e.t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	defer tr.CloseIdleConnections()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/auth/login", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Error struct {
			Code      string `json:"code"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusOK && out.Error.RequestID == "" {
		e.t.Errorf("login answered %d without the error format's request_id", res.StatusCode)
	}
	return res.StatusCode, res.Header, out.Error.Code
}

// TestLoginLimitPerAddress: failed logins from one address, whatever
// usernames they guess, are refused with 429, rate_limited and Retry-After
// after 30, with nothing stored, and a forwarded-for header does not get
// round it; another address still signs in.
func TestLoginLimitPerAddress(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			for i := range 30 {
				if st, _, code := e.loginFrom("127.0.0.2", "guess"+strconv.Itoa(i), "wrong-password"); st != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d %s, want 401", i+1, st, code)
				}
			}
			var failures int
			e.db.SQL().QueryRow("SELECT COUNT(*) FROM login_failures").Scan(&failures)
			for _, try := range [][]string{{"guess30", "wrong-password"}, {"admin", adminPassword}, {"admin", adminPassword, "X-Forwarded-For", "203.0.113.9"}} {
				st, h, code := e.loginFrom("127.0.0.2", try[0], try[1], try[2:]...)
				if st != http.StatusTooManyRequests || code != "rate_limited" {
					t.Fatalf("%v from the guessing address: %d %s, want 429 rate_limited", try, st, code)
				}
				if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 || s > 30 {
					t.Errorf("%v: Retry-After %q, want 1..30 s", try, h.Get("Retry-After"))
				}
			}
			var after int
			e.db.SQL().QueryRow("SELECT COUNT(*) FROM login_failures").Scan(&after)
			if after != failures {
				t.Errorf("refused logins stored %d failures", after-failures)
			}
			if st, _, code := e.loginFrom("127.0.0.3", "admin", adminPassword); st != http.StatusOK {
				t.Errorf("another address: %d %s, want 200", st, code)
			}
		})
	}
}
