package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

func TestLoginSendsEachRoleHome(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			for _, c := range []struct{ user, home string }{
				{w.ShopName[0], "/merchant"}, {w.OfficerName[0], "/officer"}, {w.AdminName[0], "/console"}, {"admin", "/console"},
			} {
				b := e.browser()
				pw := password
				if c.user == "admin" {
					pw = adminPassword
				}
				p := b.login(c.user, pw)
				if p.Status != http.StatusSeeOther || p.Header.Get("Location") != c.home {
					t.Errorf("%s: login answered %d to %q, want 303 to %s", c.user, p.Status, p.Header.Get("Location"), c.home)
				}
				if p := b.get("/"); p.Header.Get("Location") != c.home {
					t.Errorf("%s: / sends to %q, want %s", c.user, p.Header.Get("Location"), c.home)
				}
				if p := b.get(c.home); p.Status != http.StatusOK {
					t.Errorf("%s: home %s is %d", c.user, c.home, p.Status)
				}
			}
			// A wrong password shows the form again with the message, in Chinese.
			p := e.browser().login(w.ShopName[0], "wrong-password")
			if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "用户名或密码错误") {
				t.Errorf("wrong password: %d, body has message: %v", p.Status, strings.Contains(p.Body, "用户名或密码错误"))
			}
		})
	}
}
