package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// lockedBuffer is an io.Writer a running command and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var commands = []string{"serve", "migrate", "demo", "check", "plaques", "close-cycle", "leaderboards", "photos", "healthcheck"}

// TestCommandHelp: "menqian CMD -h" prints the command's usage and touches
// no database; the top level prints the command list.
func TestCommandHelp(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "untouched.db")
	env := envOf("MENQIAN_SQLITE_PATH", dbPath, "MENQIAN_PHOTO_DIR", filepath.Join(t.TempDir(), "photos"))
	for _, cmd := range commands {
		for _, h := range []string{"-h", "--help"} {
			var out, errs bytes.Buffer
			err := run(context.Background(), []string{cmd, h}, env, &out, &errs)
			// main exits 0 for both; most commands return flag.ErrHelp.
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%s %s: err = %v, want flag.ErrHelp or nil", cmd, h, err)
			}
			if !strings.HasPrefix(out.String(), "Usage: menqian "+cmd) || len(out.String()) < len("Usage: menqian "+cmd)+20 {
				t.Errorf("%s %s printed %q, want its usage", cmd, h, out.String())
			}
		}
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("help opened the database (%v)", err)
	}

	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, env, &out, &errs); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	for _, cmd := range commands {
		if !strings.Contains(out.String(), "\n  "+cmd) {
			t.Errorf("top-level usage does not list %s:\n%s", cmd, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"help"}, env, &out, &errs); err != nil || !strings.Contains(out.String(), "Commands:") {
		t.Errorf("help: %v, %q", err, out.String())
	}
	out.Reset()
	errs.Reset()
	err := run(context.Background(), []string{"frobnicate"}, env, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown command: err = %v, want one naming it", err)
	}
	if !strings.Contains(errs.String(), "Commands:") || out.Len() != 0 {
		t.Errorf("unknown command: stdout %q, stderr %q; want the usage on stderr", out.String(), errs.String())
	}
}

// TestMigrateCommand: a fresh SQLite file gets every migration, a second run none.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "fresh.db")
	env := envOf("MENQIAN_SQLITE_PATH", path)
	applied := func() int {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, env, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		var n int
		if _, err := fmt.Sscanf(out.String(), "applied %d migration(s); database sqlite is up to date", &n); err != nil {
			t.Fatalf("migrate printed %q: %v", out.String(), err)
		}
		return n
	}
	if n := applied(); n < 1 {
		t.Errorf("first run applied %d migrations, want at least 1", n)
	}
	if n := applied(); n != 0 {
		t.Errorf("second run applied %d migrations, want 0", n)
	}
	db, err := models.Open(models.Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if pending, err := db.Pending(context.Background()); err != nil || pending {
		t.Errorf("pending after migrate: %v, %v", pending, err)
	}
	var n int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM merchants").Scan(&n); err != nil || n != 0 {
		t.Errorf("merchants table: %d rows, %v", n, err)
	}
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// server is a `menqian serve` running in the test.
type server struct {
	base   string
	stdout *lockedBuffer
	stderr *lockedBuffer
	stop   context.CancelFunc
	done   chan error
}

// startServe runs serve with env plus MENQIAN_ADDR on a free port and waits
// until path answers 200.
func startServe(t *testing.T, env map[string]string, path string) *server {
	t.Helper()
	addr := freeAddr(t)
	env["MENQIAN_ADDR"] = addr
	if _, ok := env["MENQIAN_DRAIN"]; !ok {
		env["MENQIAN_DRAIN"] = "0s" // stop at once, unless the test is about draining
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{base: "http://" + addr, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, s.stdout, s.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-s.done:
			t.Fatalf("serve ended before it was ready: %v\nstderr: %s", err, s.stderr.String())
		default:
		}
		if r, err := http.Get(s.base + path); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready at %s after 60s\nstdout: %s\nstderr: %s", path, s.stdout.String(), s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shutdown cancels serve's context and wants a clean, prompt nil return.
func (s *server) shutdown(t *testing.T) {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve returned %v after cancel, want nil (graceful shutdown)", err)
		}
		s.done <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return within 30s of cancel")
	}
	if r, err := http.Get(s.base + "/healthz"); err == nil {
		r.Body.Close()
		t.Errorf("still answering after shutdown")
	}
}

// call sends one JSON request to a running serve.
func (s *server) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (s *server) login(t *testing.T, password string) string {
	t.Helper()
	status, out := s.call(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": password})
	tok, _ := out["token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("login as admin: %d %v", status, out)
	}
	return tok
}

// TestServeSQLite: serve on a fresh SQLite file migrates, prints the
// generated admin password once (never into the log), serves, shuts down
// cleanly on cancel; a restart keeps the generated secret, so tokens stay
// valid, and prints no password again.
func TestServeSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	metricsAddr := freeAddr(t)
	env := map[string]string{"MENQIAN_SQLITE_PATH": filepath.Join(dir, "menqian.db"), "MENQIAN_PHOTO_DIR": filepath.Join(dir, "photos"),
		"MENQIAN_METRICS_ADDR": metricsAddr}
	s := startServe(t, env, "/healthz")
	// The metrics are on their own address, never on the public one.
	if r, err := http.Get(s.base + "/metrics"); err != nil {
		t.Errorf("GET /metrics on the public address: %v", err)
	} else if r.Body.Close(); r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public address: %d, want 404", r.StatusCode)
	}
	if r, err := http.Get("http://" + metricsAddr + "/metrics"); err != nil {
		t.Errorf("GET /metrics on MENQIAN_METRICS_ADDR: %v", err)
	} else {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || !strings.Contains(string(body), "menqian_http_request_duration_seconds") {
			t.Errorf("GET /metrics on MENQIAN_METRICS_ADDR: %d\n%.300s", r.StatusCode, body)
		}
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("stdout does not show the generated password:\n%s", s.stdout.String())
	}
	pw := m[1]
	if len(pw) < 12 {
		t.Errorf("generated password %q is short", pw)
	}
	if status, _ := s.call(t, "GET", "/readyz", "", nil); status != 200 {
		t.Errorf("readyz = %d", status)
	}
	tok := s.login(t, pw)
	if status, me := s.call(t, "GET", "/api/v1/me", tok, nil); status != 200 || me["role"] != "city_admin" {
		t.Errorf("me = %d %v", status, me)
	}
	// The API's description and what it describes, Open311 included, are
	// on the public address.
	for _, path := range []string{"/api/v1/openapi.json", "/open311/v2/services.json", "/open311/v2/requests.xml"} {
		if r, err := http.Get(s.base + path); err != nil {
			t.Errorf("GET %s: %v", path, err)
		} else if r.Body.Close(); r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), path[strings.LastIndex(path, ".")+1:]) {
			t.Errorf("GET %s: %d %s", path, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}
	if err := run(context.Background(), []string{"healthcheck", "-url", s.base + "/healthz"}, envOf(), io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck of a running instance: %v", err)
	}
	if _, err := os.Stat(env["MENQIAN_PHOTO_DIR"]); err != nil {
		t.Errorf("photo dir not created: %v", err)
	}
	s.shutdown(t)
	if strings.Contains(s.stderr.String(), pw) {
		t.Errorf("the log shows the admin password")
	}
	if !strings.Contains(s.stderr.String(), `"msg":"starting menqian"`) {
		t.Errorf("no structured start line in the log:\n%s", s.stderr.String())
	}
	if err := run(context.Background(), []string{"healthcheck", "-url", s.base + "/healthz"}, envOf(), io.Discard, io.Discard); err == nil {
		t.Errorf("healthcheck of a stopped instance succeeded")
	}

	again := startServe(t, env, "/healthz")
	if strings.Contains(again.stdout.String(), "password:") {
		t.Errorf("restart prints a password again:\n%s", again.stdout.String())
	}
	if status, _ := again.call(t, "GET", "/api/v1/me", tok, nil); status != 200 {
		t.Errorf("a token from before the restart: %d, want 200 (the generated secret is stored)", status)
	}
	again.shutdown(t)
}

// TestServeMariaDB: serve against an empty MariaDB database migrates it,
// creates the admin with MENQIAN_ADMIN_PASSWORD and is ready to use.
func TestServeMariaDB(t *testing.T) {
	t.Parallel()
	dsn := dbtest.MySQLDSN(t)
	env := map[string]string{"MENQIAN_MYSQL_DSN": dsn, "MENQIAN_ADMIN_PASSWORD": "maria-admin-pw-1",
		"MENQIAN_PHOTO_DIR": filepath.Join(t.TempDir(), "photos")}
	s := startServe(t, env, "/readyz")
	if !strings.Contains(s.stdout.String(), "Created city admin account admin with MENQIAN_ADMIN_PASSWORD") ||
		strings.Contains(s.stdout.String(), "maria-admin-pw-1") {
		t.Errorf("stdout:\n%s", s.stdout.String())
	}
	tok := s.login(t, "maria-admin-pw-1")
	status, c := s.call(t, "POST", "/api/v1/counties", tok, map[string]any{"code": "370303", "name": "张店区"})
	if status != 201 {
		t.Fatalf("create county: %d %v", status, c)
	}
	id := int64(c["id"].(float64))
	if status, got := s.call(t, "GET", fmt.Sprintf("/api/v1/counties/%d", id), tok, nil); status != 200 || got["name"] != "张店区" {
		t.Errorf("read county: %d %v", status, got)
	}
	if strings.Contains(s.stderr.String(), "maria-admin-pw-1") {
		t.Errorf("the log shows the admin password")
	}
	s.shutdown(t)
}

// TestServeRefuses: configuration and database problems end serve at once
// with one clear line, not a panic or a hang.
func TestServeRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"bad redis URL", []string{"MENQIAN_REDIS_URL", "http://x"}, "MENQIAN_REDIS_URL"},
		{"DSN without database", []string{"MENQIAN_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/"}, "MENQIAN_MYSQL_DSN"},
		{"unreachable MySQL", []string{"MENQIAN_MYSQL_DSN", "root:hidden-pw@tcp(127.0.0.1:1)/menqian"}, "mysql"},
		{"migrations off on a fresh database", []string{"MENQIAN_MIGRATE", "off"}, "menqian migrate"},
		{"missing policy file", []string{"MENQIAN_POLICY", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := append([]string{"MENQIAN_SQLITE_PATH", filepath.Join(t.TempDir(), "m.db"), "MENQIAN_ADDR", freeAddr(t),
				"MENQIAN_PHOTO_DIR", filepath.Join(dir, "photos")}, c.env...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- run(ctx, []string{"serve"}, envOf(env...), io.Discard, io.Discard) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "hidden-pw") {
					t.Errorf("err = %v, want one line mentioning %q", err, c.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not give up within 30s")
			}
		})
	}
}

// TestServeDrains: on SIGTERM (here: its context) serve first says not ready
// while it keeps serving for MENQIAN_DRAIN, so a load balancer stops sending
// without a request refused, then stops (issue 16, defect 16).
func TestServeDrains(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"MENQIAN_SQLITE_PATH": filepath.Join(dir, "menqian.db"), "MENQIAN_PHOTO_DIR": filepath.Join(dir, "photos"),
		"MENQIAN_ADMIN_PASSWORD": "drain-admin-pw-1", "MENQIAN_DRAIN": "3s"}
	s := startServe(t, env, "/readyz")
	tok := s.login(t, "drain-admin-pw-1")
	stopped := time.Now()
	s.stop()
	deadline := time.Now().Add(2 * time.Second)
	for {
		status, _ := s.call(t, "GET", "/readyz", "", nil)
		if status == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d after the stop", status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status, _ := s.call(t, "GET", "/healthz", "", nil); status != 200 {
		t.Errorf("healthz while draining: %d, want 200", status)
	}
	if status, me := s.call(t, "GET", "/api/v1/me", tok, nil); status != 200 || me["role"] != "city_admin" {
		t.Errorf("a request while draining: %d %v, want it served", status, me)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve returned %v, want nil", err)
		}
		if d := time.Since(stopped); d < 3*time.Second {
			t.Errorf("serve stopped %v after the signal, before its 3s drain", d)
		}
		s.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after its drain")
	}
	if r, err := http.Get(s.base + "/healthz"); err == nil {
		r.Body.Close()
		t.Errorf("still answering after the drain")
	}
}
