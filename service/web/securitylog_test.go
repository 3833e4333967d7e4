package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/web"
)

// TestPageRefusalsAreLogged: a CSRF refusal, a failed sign-in and a page
// refused to a signed-in officer each leave an INFO line with the request id,
// the status, the route and the client (and who was signed in), never the
// password or the session (issue 16, defect 11). The handler is called
// directly, so its log is complete when it returns.
func TestPageRefusalsAreLogged(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			var logs strings.Builder
			h := web.New(web.Options{Service: e.svc, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			serve := func(id string, req *http.Request) *httptest.ResponseRecorder {
				req.RemoteAddr = "203.0.113.9:4444"
				req.Header.Set("X-Request-ID", id)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if got := rec.Header().Get("X-Request-ID"); got != id {
					t.Errorf("%s: X-Request-ID %q, want it echoed", id, got)
				}
				return rec
			}
			form := func(v url.Values) *http.Request {
				req := httptest.NewRequest("POST", "/login", strings.NewReader(v.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return req
			}
			const guess = "not-the-password-42"

			// The login form without its CSRF token: refused.
			if rec := serve("sec-page-csrf", form(url.Values{"username": {w.OfficerName[0]}, "password": {guess}})); rec.Code != http.StatusForbidden {
				t.Fatalf("login without a token: %d", rec.Code)
			}
			// A wrong password with the form's token.
			get := serve("sec-page-form", httptest.NewRequest("GET", "/login", nil))
			var token string
			for _, ck := range get.Result().Cookies() {
				if ck.Name == "menqian_login_csrf" {
					token = ck.Value
				}
			}
			req := form(url.Values{"username": {w.OfficerName[0]}, "password": {guess}, "csrf": {token}})
			req.AddCookie(&http.Cookie{Name: "menqian_login_csrf", Value: token})
			if rec := serve("sec-page-login", req); rec.Code != http.StatusUnauthorized {
				t.Fatalf("a wrong password: %d", rec.Code)
			}
			// A signed-in officer opens the county console.
			s, err := e.svc.StartSession(context.Background(), w.OfficerName[0], password)
			if err != nil {
				t.Fatal(err)
			}
			req = httptest.NewRequest("GET", "/console", nil)
			req.AddCookie(&http.Cookie{Name: "menqian_session", Value: s.ID})
			if rec := serve("sec-page-role", req); rec.Code != http.StatusForbidden {
				t.Fatalf("an officer opens the console: %d", rec.Code)
			}

			for _, c := range []struct{ id, status, route, user string }{
				{"sec-page-csrf", "403", "POST /login", `"user_id":0`},
				{"sec-page-login", "401", "POST /login", `"user_id":0`},
				{"sec-page-role", "403", "GET /console", fmt.Sprintf(`"user_id":%d`, w.Officer[0].UserID)},
			} {
				var line string
				for l := range strings.Lines(logs.String()) {
					if strings.Contains(l, `"request_id":"`+c.id+`"`) && strings.Contains(l, `"msg":"page refused"`) {
						line = l
					}
				}
				if line == "" {
					t.Errorf("%s: no refusal logged; logs:\n%s", c.id, logs.String())
					continue
				}
				for _, want := range []string{`"level":"INFO"`, `"status":` + c.status, `"route":"` + c.route + `"`, `"client":"203.0.113.9"`, c.user} {
					if !strings.Contains(line, want) {
						t.Errorf("%s: log line %s lacks %s", c.id, line, want)
					}
				}
			}
			if l := logs.String(); strings.Contains(l, guess) || strings.Contains(l, s.ID) || strings.Contains(l, token) {
				t.Errorf("the log shows a password, a session or a token:\n%s", l)
			}
		})
	}
}
