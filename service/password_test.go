package service

import (
	"context"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestPasswordProblem: the length rule stays; common passwords, repetitions,
// sequences, keyboard walks, common Chinese passwords and the account's own
// name or phone are refused with the reason in Chinese; passwords nobody
// guesses pass, the random ones RandomPassword makes among them.
func TestPasswordProblem(t *testing.T) {
	refused := []struct {
		pw      string
		related []string
		why     string
	}{
		{"short1!", nil, "长度"},
		{strings.Repeat("很长的密码", 5), nil, "长度"}, // 75 bytes
		{"12345678", nil, "常见密码"},
		{"password", nil, "常见密码"},
		{"Password1", nil, "常见密码"},
		{"iloveyou", nil, "常见密码"},
		{"11111111", nil, "常见密码"},
		{"aaaaaaaaaaaa", nil, "重复"},
		{"abcdefgh", nil, "连续"},
		{"987654321", nil, "常见密码"},
		{"qwertyui", nil, "常见密码"},
		{"1qaz2wsx", nil, "常见密码"},
		{"ijklmnopqr", nil, "连续"},
		{"xyzxyzxyzxyz", nil, "重复"},
		{"zxcvbnm,./", nil, "键盘"},
		{"woaini1314", nil, "常见密码"},
		{"5201314520", nil, "常见密码"},
		{"officer370303", []string{"officer370303"}, "用户名"},
		{"officer370303!", []string{"officer370303"}, "用户名"},
		{"13853312345", []string{"shop1", "13853312345"}, "用户名"},
	}
	for _, c := range refused {
		if got := passwordProblem(c.pw, c.related...); !strings.Contains(got, c.why) {
			t.Errorf("passwordProblem(%q) = %q, want a refusal saying %q", c.pw, got, c.why)
		}
	}
	for _, pw := range []string{"officer-pass-1", "柳泉路巡查2026", "Ban-ma-xian-7", "k3JfQ9zT_x0aPb2c", "zhangdian-spring-88"} {
		if got := passwordProblem(pw, "officer1", "13853312345"); got != "" {
			t.Errorf("passwordProblem(%q) = %q, want accepted", pw, got)
		}
	}
	for range 20 {
		pw, err := RandomPassword()
		if err != nil {
			t.Fatal(err)
		}
		if got := passwordProblem(pw, "admin"); got != "" {
			t.Errorf("random password %q refused: %s", pw, got)
		}
	}
}

// TestFixturePasswordsPass: the passwords the tests, the README's walk-through
// and the configuration examples set are accepted, so the rule and the
// fixtures agree.
func TestFixturePasswordsPass(t *testing.T) {
	for _, pw := range []string{"password-1234", "admin-password-1", "password-370303", "password-370302", "password-seeded",
		"password-authz", "password-probe", "password-neighbour", "a-long-password", "a-new-password-1", "new-password-1",
		"new-password-2", "officer-password-1", "officer-password-2", "officer-password-3", "county-password-1",
		"city2-password-1", "shop-password-1", "patrol-password-1", "whatever-password", "officer-pass-1", "admin-pass",
		"maria-admin-pw-1", "drain-admin-pw-1", "admin-Pa55word"} {
		if p := passwordProblem(pw, "officer370303", "shop370303"); p != "" {
			t.Errorf("fixture password %q refused: %s", pw, p)
		}
	}
}

// TestBootstrapRefusesWeakAdminPassword: MENQIAN_ADMIN_PASSWORD is held to
// the same rule when the first admin is created, and nothing is created.
func TestBootstrapRefusesWeakAdminPassword(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			s, _ := newAuthService(t, db, "secret-one-0123456789")
			if _, created, err := s.Bootstrap(context.Background(), "password1"); err == nil || created ||
				!strings.Contains(err.Error(), "MENQIAN_ADMIN_PASSWORD: 密码太容易被猜到") {
				t.Fatalf("Bootstrap(password1) = %v, %v", created, err)
			}
			if n, err := db.CountUsers(context.Background()); err != nil || n != 0 {
				t.Fatalf("%d users after a refused bootstrap (%v)", n, err)
			}
			if _, created, err := s.Bootstrap(context.Background(), "zibo-city-admin-7"); err != nil || !created {
				t.Fatalf("Bootstrap with a good password: %v, %v", created, err)
			}
		})
	}
}
