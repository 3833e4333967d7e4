package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/ratelimit"
	"github.com/menqian/menqian/service/web"
)

// instance is another instance of the pages over e's service, whose limits
// are kept by l.
func (e *env) instance(l ratelimit.Limiter) *env {
	e.t.Helper()
	srv := httptest.NewServer(web.New(web.Options{Service: e.svc, Registry: prometheus.NewRegistry(), Limiter: l}))
	e.t.Cleanup(srv.Close)
	other := *e
	other.srv = srv
	return &other
}

// redisLimits returns limiters over the test Redis, as cmd wires them (with
// memory while Redis fails), under a key prefix of the test's own, and a
// function that makes their Redis fail.
func redisLimits(t *testing.T, log *slog.Logger) (limiter func() ratelimit.Limiter, kill func()) {
	t.Helper()
	rdb, err := leaderboard.Connect(dbtest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "webtest" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		if c, err := leaderboard.Connect(dbtest.RedisURL(t)); err == nil {
			for iter := c.Scan(ctx, 0, prefix+":*", 100).Iterator(); iter.Next(ctx); {
				c.Del(ctx, iter.Val())
			}
			c.Close()
		}
		rdb.Close()
	})
	return func() ratelimit.Limiter {
		return ratelimit.NewFallback(leaderboard.NewRedis(rdb, nil, nil, log, leaderboard.WithPrefix(prefix)).Limiter(), ratelimit.NewMemory(100), log)
	}, func() { rdb.Close() }
}

// Two instances sharing one Redis share the report limits: an address's
// eleventh report, whichever instance takes it, is 429 with Retry-After and
// stores nothing. With Redis down, reports are still taken and limited in
// each instance's memory, and the outage is logged once.
func TestReportLimitsSharedByInstances(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			var log bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&log, nil))
			limiter, kill := redisLimits(t, logger)
			one, two := e.instance(limiter()), e.instance(limiter())
			rule := e.svc.Policy().Items[0].Code
			report := func(in *env, ip, token string) page {
				t.Helper()
				return in.citizenFrom(ip).fileReport(token, url.Values{"rule_code": {rule}}) // a new device each time
			}
			tok := e.scanToken(w.Merchant[0])
			for i := range 10 {
				receiptOf(t, report([]*env{one, two}[i%2], "127.0.0.5", tok))
			}
			before := e.reportRows()
			p := report(one, "127.0.0.5", tok)
			if p.Status != http.StatusTooManyRequests {
				t.Fatalf("the address's 11th report over two instances: %d, want 429: %.300s", p.Status, p.Body)
			}
			if s, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || s < 1 || s > 360 {
				t.Errorf("Retry-After %q, want 1..360 s (one report back every 6 minutes)", p.Header.Get("Retry-After"))
			}
			if got := e.reportRows(); got != before {
				t.Errorf("a refused report stored: cases and reports %v, want %v", got, before)
			}
			receiptOf(t, report(two, "127.0.0.6", tok)) // another address still reports

			kill()
			tok = e.scanToken(w.Other[0])
			for i := range 10 {
				if p := report(one, "127.0.0.7", tok); p.Status != http.StatusSeeOther {
					t.Fatalf("report %d with Redis down: %d, want it taken: %.300s", i+1, p.Status, p.Body)
				}
			}
			before = e.reportRows()
			if p := report(one, "127.0.0.7", tok); p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
				t.Errorf("11th report with Redis down: %d, want 429 with Retry-After from the instance's memory", p.Status)
			}
			if got := e.reportRows(); got != before {
				t.Errorf("a refused report stored: %v, want %v", got, before)
			}
			if n := strings.Count(log.String(), "level=WARN"); n != 1 {
				t.Errorf("%d warnings for one outage of one instance, want 1:\n%s", n, log.String())
			}
		})
	}
}

// TestLoginFormLimitPerAddress: the login form refuses an address after 30
// failed logins, whatever usernames, with 429, Retry-After and the message on
// the form; another address signs in.
func TestLoginFormLimitPerAddress(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			guesser := e.citizenFrom("127.0.0.8")
			for i := range 30 {
				if p := guesser.login("guess"+strconv.Itoa(i), "wrong-password"); p.Status != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d, want 401", i+1, p.Status)
				}
			}
			p := guesser.login(w.ShopName[0], password)
			if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "此网络登录失败次数过多") {
				t.Errorf("the right password from the guessing address: %d, want 429 saying 此网络登录失败次数过多: %.300s", p.Status, p.Body)
			}
			if s, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || s < 1 || s > 30 {
				t.Errorf("Retry-After %q, want 1..30 s", p.Header.Get("Retry-After"))
			}
			if p := e.citizenFrom("127.0.0.9").login(w.ShopName[0], password); p.Status != http.StatusSeeOther {
				t.Errorf("another address: %d, want 303 (signed in)", p.Status)
			}
		})
	}
}
