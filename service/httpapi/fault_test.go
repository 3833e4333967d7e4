package httpapi_test

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/httpapi"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
)

// tcpProxy forwards connections to a server until cut, which closes every
// connection and the listener (the server went away: connections refused),
// and heal listens again on the same address.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// cut stops the proxy: the database is down.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// heal starts the proxy again on its address: the database is back.
func (p *tcpProxy) heal() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

var dsnAddr = regexp.MustCompile(`tcp\(([^)]*)\)`)

// faultEnv is an env on a fresh MariaDB database reached at dsn, whose
// requests have the given deadline.
func faultEnv(t *testing.T, dsn string, timeout time.Duration) *env {
	t.Helper()
	ctx := context.Background()
	db, err := models.Open(models.Config{MySQLDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clk := dbtest.NewClock(time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC))
	svc := service.New(service.Options{DB: db, Policy: policy.Default(), Secret: []byte("test-secret-0123456789"),
		Photos: photostore.NewLocal(t.TempDir()), PublicURL: "http://mq.test", Clock: clk.Now, PasswordCost: bcrypt.MinCost})
	if _, _, err := svc.Bootstrap(ctx, adminPassword); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Registry: prometheus.NewRegistry(),
		RequestTimeout: timeout, Ready: func() error { return db.Ping(ctx) }}))
	t.Cleanup(srv.Close)
	e := &env{t: t, db: db, svc: svc, srv: srv, clock: clk}
	e.admin = e.login("admin", adminPassword)
	return e
}

// wantUnavailable checks a 503 in the design's error format with the
// Retry-After the client should wait.
func wantUnavailable(t *testing.T, what string, r resp, retryAfter string) {
	t.Helper()
	checkErrorEnvelope(t, r, 503, "unavailable")
	if got := r.Header.Get("Retry-After"); got != retryAfter {
		t.Errorf("%s: Retry-After %q, want %q", what, got, retryAfter)
	}
}

// TestDatabaseDownIs503: while MariaDB cannot be reached, writes and reads
// are answered 503 unavailable with Retry-After (not a generic 500), and
// readiness fails; when it is back, the service recovers by itself and the
// inspection that was refused records once (issue 16, defect 13).
func TestDatabaseDownIs503(t *testing.T) {
	dsn := dbtest.MySQLDSN(t)
	px := startProxy(t, dsnAddr.FindStringSubmatch(dsn)[1])
	e := faultEnv(t, dsnAddr.ReplaceAllString(dsn, "tcp("+px.addr+")"), 10*time.Second)
	w := e.seed()
	record := func(key string) resp {
		return e.do("POST", "/api/v1/inspections", w.Officer[0], inspection(w.Merchant[0], nil, map[string]any{"rule_code": "BONUS-01"}),
			"Idempotency-Key", key)
	}
	e.must(201, "POST", "/api/v1/inspections", w.Officer[0], inspection(w.Merchant[0], nil, map[string]any{"rule_code": "BONUS-01"}),
		"Idempotency-Key", "before")

	// The rankings read before the outage answer through it, the same and
	// marked stale (defect 13: they failed although nothing had changed).
	county := itoa(w.County[0])
	rankings := []struct{ path, token, want string }{
		{"/api/v1/leaderboards/merchants?scope=county&id=" + county, w.Officer[0], "张记烧烤张店区"},
		{"/api/v1/leaderboards/merchants?scope=road&id=" + itoa(w.Road[0]), w.Admin[0], "张记烧烤张店区"},
		{"/api/v1/leaderboards/merchants?scope=city", e.admin, "张记烧烤淄川区"},
		{"/api/v1/leaderboards/roads?county_id=" + county, w.Officer[0], "柳泉路"},
		{"/api/v1/merchants/" + itoa(w.Merchant[0]) + "/rank", w.Shop[0], `"county":{"rank":1,"of":1}`},
	}
	before := make([]string, len(rankings))
	for i, r := range rankings {
		got := e.must(200, "GET", r.path, r.token, nil)
		if !strings.Contains(string(got.Body), r.want) {
			t.Fatalf("%s before the outage: %s, want %s in it", r.path, got.Body, r.want)
		}
		if w := got.Header.Get("Warning"); w != "" {
			t.Errorf("%s before the outage: Warning %q", r.path, w)
		}
		before[i] = string(got.Body)
	}

	px.cut()
	wantUnavailable(t, "an inspection", record("during"), "5")
	wantUnavailable(t, "a merchant", e.do("GET", "/api/v1/merchants/"+itoa(w.Merchant[0]), w.Officer[0], nil), "5")
	checkErrorEnvelope(t, e.do("GET", "/readyz", "", nil), 503, "unavailable")
	for i, r := range rankings {
		got := e.do("GET", r.path, r.token, nil)
		if got.Status != 200 || string(got.Body) != before[i] {
			t.Errorf("%s while the database is down: %d %s, want 200 %s", r.path, got.Status, got.Body, before[i])
		}
		if w := got.Header.Get("Warning"); w != `110 menqian "Response is Stale"` {
			t.Errorf("%s while the database is down: Warning %q, want 110 Response is Stale", r.path, w)
		}
	}
	// A county whose rankings this instance never read has nothing to show.
	wantUnavailable(t, "a ranking never read", e.do("GET", "/api/v1/leaderboards/roads?county_id="+itoa(w.County[1]), w.Officer[1], nil), "5")

	px.heal()
	e.must(200, "GET", "/readyz", "", nil)
	for _, r := range rankings {
		if got := e.must(200, "GET", r.path, r.token, nil); got.Header.Get("Warning") != "" {
			t.Errorf("%s after recovery: still Warning %q", r.path, got.Header.Get("Warning"))
		}
	}
	if r := record("during"); r.Status != 201 {
		t.Fatalf("the refused inspection, retried after recovery: %d %s", r.Status, r.Body)
	}
	e.must(201, "POST", "/api/v1/inspections", w.Officer[0], inspection(w.Merchant[0], nil, map[string]any{"rule_code": "BONUS-01"}),
		"Idempotency-Key", "during") // a replay of the first answer
	if n := e.count("inspections", "1 = 1"); n != 2 {
		t.Errorf("%d inspections stored, want 2 (before, and during once)", n)
	}
}

// TestSlowDatabaseIs503: a locked table makes a request wait no longer than
// its deadline, which is answered 503 with Retry-After; the caller's
// recording, if it was already in a batch, commits at most once, and a retry
// with its key after the lock is released finds or records it once (issue
// 16, defect 14).
func TestSlowDatabaseIs503(t *testing.T) {
	dsn := dbtest.MySQLDSN(t)
	e := faultEnv(t, dsn, 300*time.Millisecond)
	w := e.seed()
	ctx := context.Background()
	locker, err := models.Open(models.Config{MySQLDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	conn, err := locker.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "LOCK TABLES scores WRITE, ledger_entries WRITE"); err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/inspections", w.Officer[0], inspection(w.Merchant[0], nil, map[string]any{"rule_code": "BONUS-01"}),
		"Idempotency-Key", "slow")
	wantUnavailable(t, "an inspection behind a locked table", r, "2")
	if _, err := conn.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
		t.Fatal(err)
	}
	var again resp
	for range 50 { // the first attempt may still be committing: a retry conflicts until it has
		again = e.do("POST", "/api/v1/inspections", w.Officer[0], inspection(w.Merchant[0], nil, map[string]any{"rule_code": "BONUS-01"}),
			"Idempotency-Key", "slow")
		if again.Status != 503 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if again.Status != 201 && again.Status != 200 {
		t.Fatalf("the retry after the lock: %d %s", again.Status, again.Body)
	}
	if n := e.count("inspections", "idempotency_key = ?", "slow"); n != 1 {
		t.Errorf("%d inspections with the key, want 1", n)
	}
	if n := e.count("ledger_entries", "1 = 1"); n != 1 {
		t.Errorf("%d ledger entries, want 1", n)
	}
}
