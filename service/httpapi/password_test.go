package httpapi_test

import (
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestWeakPasswordsRefused: creating an account or resetting its password
// with a common or trivial password, or one made of the account's own
// username, is 400 on the password field with the reason in Chinese, and
// stores nothing; a password nobody guesses is taken.
func TestWeakPasswordsRefused(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := seedFast(e)
			user := func(pw string) map[string]any {
				return map[string]any{"username": "patrol_zhang", "password": pw, "role": "officer", "county_id": w.County[0]}
			}
			for _, c := range []struct{ pw, reset, why string }{
				{"12345678", "12345678", "常见密码"}, {"password", "password", "常见密码"}, {"woaini1314", "woaini1314", "常见密码"},
				{"aaaaaaaaaa", "aaaaaaaaaa", "重复"}, {"patrol_zhang", "officer370303", "用户名"}, {"short", "short", "长度"},
			} {
				before := dbtest.Dump(t, e.db)
				for _, r := range []resp{
					e.do("POST", "/api/v1/users", w.Admin[0], user(c.pw)),
					e.do("PATCH", "/api/v1/users/"+itoa(w.OfficerID[0]), w.Admin[0], map[string]any{"password": c.reset}),
				} {
					checkErrorEnvelope(t, r, 400, "invalid_input")
					fields, _ := errPart(r, "fields").(map[string]any)
					if why, _ := fields["password"].(string); !strings.Contains(why, c.why) {
						t.Errorf("password %q: fields = %v, want the password refused saying %q", c.pw, fields, c.why)
					}
				}
				if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
					t.Errorf("password %q: tables changed: %v", c.pw, changed)
				}
			}
			e.must(201, "POST", "/api/v1/users", w.Admin[0], user("liuquan-road-patrol-7"))
			e.must(200, "PATCH", "/api/v1/users/"+itoa(w.OfficerID[0]), w.Admin[0], map[string]any{"password": "zhangdian-spring-88"})
		})
	}
}
