package httpapi_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/clientaddr"
	"github.com/menqian/menqian/service/httpapi"
)

// TestRefusalsAreLogged: a failed login, a forbidden request and a missing
// token each leave an INFO line with the request id, the status, the code,
// the route and the client, and never the password or the token (issue 16,
// defect 11). The handler is called directly, so its log is complete when
// it returns.
func TestRefusalsAreLogged(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			var logs strings.Builder
			h := httpapi.New(httpapi.Options{Service: e.svc, Registry: prometheus.NewRegistry(),
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

			const guess = "not-the-password-42"
			for _, c := range []struct {
				method, path, token, body string
				status                    int
				code, route               string
			}{
				{"POST", "/api/v1/auth/login", "", `{"username":"officer370303","password":"` + guess + `"}`, 401, "unauthorized", "/api/v1/auth/login"},
				{"GET", "/api/v1/users", w.Officer[0], "", 403, "forbidden", "/api/v1/users"},
				{"GET", "/api/v1/me", "", "", 401, "unauthorized", "/api/v1/me"},
			} {
				req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
				req.RemoteAddr = "203.0.113.7:5555"
				req.Header.Set("X-Request-ID", "sec-test-"+c.code+"-"+c.method)
				if c.token != "" {
					req.Header.Set("Authorization", "Bearer "+c.token)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != c.status {
					t.Fatalf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.status)
				}
				var line string
				for l := range strings.Lines(logs.String()) {
					if strings.Contains(l, `"request_id":"sec-test-`+c.code+"-"+c.method+`"`) && strings.Contains(l, `"msg":"request refused"`) {
						line = l
					}
				}
				if line == "" {
					t.Errorf("%s %s: no refusal logged with its request id; logs:\n%s", c.method, c.path, logs.String())
					continue
				}
				for _, want := range []string{`"level":"INFO"`, `"code":"` + c.code + `"`, `"route":"` + c.route + `"`, `"client":"203.0.113.7"`} {
					if !strings.Contains(line, want) {
						t.Errorf("%s %s: log line %s lacks %s", c.method, c.path, line, want)
					}
				}
			}
			if s := logs.String(); strings.Contains(s, guess) || strings.Contains(s, w.Officer[0]) {
				t.Errorf("the log shows a password or a token:\n%s", s)
			}
		})
	}
}

// TestClientBehindTrustedProxy: behind a proxy of MENQIAN_TRUSTED_PROXIES the
// client is the address it forwarded; from anyone else X-Forwarded-For is
// ignored (it would let a client choose its rate-limit bucket and its name
// in the log).
func TestClientBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Dialects(t)[0])
	clients, err := clientaddr.New([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	h := httpapi.New(httpapi.Options{Service: e.svc, Registry: prometheus.NewRegistry(), Clients: clients,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	for _, c := range []struct{ remote, forwarded, want string }{
		{"10.1.2.3:4000", "1.2.3.4, 198.51.100.9", "198.51.100.9"},
		{"203.0.113.7:4000", "198.51.100.9", "203.0.113.7"},
	} {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.RemoteAddr = c.remote
		req.Header.Set("X-Forwarded-For", c.forwarded)
		req.Header.Set("X-Request-ID", "proxy-test-"+c.want)
		h.ServeHTTP(httptest.NewRecorder(), req)
		found := false
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, `"request_id":"proxy-test-`+c.want+`"`) {
				found = true
				if !strings.Contains(l, `"client":"`+c.want+`"`) {
					t.Errorf("from %s forwarding %s: %s, want client %s", c.remote, c.forwarded, l, c.want)
				}
			}
		}
		if !found {
			t.Errorf("from %s: no refusal logged", c.remote)
		}
	}
}
