package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/leaderboard/redistest"
)

// The fault suite of issue 16: `menqian serve` in process against real
// servers, with clients that record inspections and retry each one with its
// Idempotency-Key until it is answered 201, as an officer's phone does.

const (
	faultClients    = 10
	faultAdminPW    = "Fault-Admin-Mango-4417"
	faultOfficerPW  = "Fault-Officer-Kiwi-8831"
	faultRetryPause = 50 * time.Millisecond // shorter than Retry-After, so the recovery is measured finely
)

// faultAnswer is one HTTP attempt of a client.
type faultAnswer struct {
	instance   int // which serve it was sent to
	key        string
	status     int // 0: no answer
	retryAfter string
	code       string // error code of a non-2xx answer
	id         int64  // inspection id of a 201
	err        error
	dialErr    bool // the connection was refused: nothing was sent
	start, end time.Time
}

// faultLoad is a run of retrying clients against one or more instances.
type faultLoad struct {
	token     string
	merchants []int64
	bases     []string
	route     atomic.Pointer[[]int] // the instances requests go to, in turn
	client    *http.Client

	stop   atomic.Bool
	giveUp atomic.Int64 // unix nanoseconds after which a stopped client abandons its key
	wg     sync.WaitGroup

	mu      sync.Mutex
	answers []faultAnswer
	keys    []string
	n       int
}

func newFaultLoad(token string, merchants []int64, bases ...string) *faultLoad {
	l := &faultLoad{token: token, merchants: merchants, bases: bases,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	all := make([]int, len(bases))
	for i := range all {
		all[i] = i
	}
	l.route.Store(&all)
	return l
}

// start runs the clients until finish.
func (l *faultLoad) start() {
	for c := range faultClients {
		l.wg.Add(1)
		go l.run(c)
	}
}

// finish stops the clients after each has its current key answered (or
// after 30 s of trying) and waits for them.
func (l *faultLoad) finish() {
	l.giveUp.Store(time.Now().Add(30 * time.Second).UnixNano())
	l.stop.Store(true)
	l.wg.Wait()
}

func (l *faultLoad) run(c int) {
	defer l.wg.Done()
	body, _ := json.Marshal(map[string]any{"merchant_id": l.merchants[c%len(l.merchants)],
		"items": []map[string]any{{"rule_code": "BONUS-01"}}, "photos": []int64{}})
	for n := 0; !l.stop.Load(); n++ {
		key := fmt.Sprintf("fault-%d-%d", c, n)
		l.mu.Lock()
		l.keys = append(l.keys, key)
		l.mu.Unlock()
		for {
			a := l.post(key, body)
			if a.status == 201 || a.status != 0 && a.status != 503 {
				break // answered, or an answer no retry changes (the test fails on it)
			}
			if l.stop.Load() && time.Now().UnixNano() > l.giveUp.Load() {
				break
			}
			time.Sleep(faultRetryPause)
		}
	}
}

// post sends one attempt to the next instance in the route.
func (l *faultLoad) post(key string, body []byte) faultAnswer {
	route := *l.route.Load()
	l.mu.Lock()
	inst := route[l.n%len(route)]
	l.n++
	l.mu.Unlock()
	a := faultAnswer{instance: inst, key: key, start: time.Now()}
	req, _ := http.NewRequest("POST", l.bases[inst]+"/api/v1/inspections", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Idempotency-Key", key)
	res, err := l.client.Do(req)
	if err != nil {
		a.err = err
		var op *net.OpError
		a.dialErr = errors.As(err, &op) && op.Op == "dial"
	} else {
		var out struct {
			ID    int64 `json:"id"`
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		a.status, a.retryAfter, a.code, a.id = res.StatusCode, res.Header.Get("Retry-After"), out.Error.Code, out.ID
	}
	a.end = time.Now()
	l.add(a)
	return a
}

func (l *faultLoad) add(a faultAnswer) {
	l.mu.Lock()
	l.answers = append(l.answers, a)
	l.mu.Unlock()
}

// count returns how many answers match.
func (l *faultLoad) count(match func(faultAnswer) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.answers {
		if match(a) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// faultFigures are what a fault run reports.
type faultFigures struct {
	sent, created, stored, lost, doubled int
	stall                                time.Duration
}

// verify compares every answer with what db stored: each key answered 201
// is stored exactly once, with the id every one of its 201s carried, and
// one ledger entry; no key is stored twice.
func (l *faultLoad) verify(t *testing.T, db *models.DB) faultFigures {
	t.Helper()
	ctx := context.Background()
	stored := map[string][]int64{}
	rows, err := db.SQL().QueryContext(ctx, `SELECT i.idempotency_key, i.id, (SELECT COUNT(*) FROM ledger_entries e WHERE e.inspection_id = i.id)
		FROM inspections i`)
	if err != nil {
		t.Fatal(err)
	}
	var f faultFigures
	for rows.Next() {
		var key string
		var id, entries int64
		if err := rows.Scan(&key, &id, &entries); err != nil {
			t.Fatal(err)
		}
		stored[key] = append(stored[key], id)
		f.stored++
		if entries != 1 {
			f.doubled++
			t.Errorf("inspection %d (key %s) has %d ledger entries, want 1", id, key, entries)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	l.mu.Lock()
	defer l.mu.Unlock()
	answered := map[string]map[int64]bool{}
	var oks []time.Time
	for _, a := range l.answers {
		f.sent++
		if a.status == 201 {
			f.created++
			if answered[a.key] == nil {
				answered[a.key] = map[int64]bool{}
			}
			answered[a.key][a.id] = true
			oks = append(oks, a.end)
		}
	}
	for key, ids := range answered {
		got := stored[key]
		switch {
		case len(got) == 0:
			f.lost++
			t.Errorf("key %s was answered 201 (ids %v) but is not stored", key, ids)
		case len(ids) > 1:
			f.doubled++
			t.Errorf("key %s was answered 201 with %d ids %v", key, len(ids), ids)
		case !ids[got[0]]:
			f.lost++
			t.Errorf("key %s was answered 201 with ids %v, but stored as %v", key, ids, got)
		}
	}
	for key, ids := range stored {
		if len(ids) > 1 {
			f.doubled++
			t.Errorf("key %s is stored %d times: %v", key, len(ids), ids)
		}
		if !slices.Contains(l.keys, key) {
			t.Errorf("inspection with key %s was never sent", key)
		}
	}
	f.stall = longestGap(oks)
	return f
}

// openFaultDB opens the database the serves of a fault run share, to see
// what they stored.
func openFaultDB(t *testing.T, dsn string) *models.DB {
	t.Helper()
	db, err := models.Open(models.Config{MySQLDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// accepting reports whether a TCP listener answers at addr.
func accepting(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// longestGap is the longest time between two consecutive instants.
func longestGap(at []time.Time) time.Duration {
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	var gap time.Duration
	for i := 1; i < len(at); i++ {
		gap = max(gap, at[i].Sub(at[i-1]))
	}
	return gap
}

// checkClean runs `menqian check` on env and wants it clean.
func checkClean(t *testing.T, env map[string]string) {
	t.Helper()
	var out, errs lockedBuffer
	if err := run(context.Background(), []string{"check"}, func(k string) string { return env[k] }, &out, &errs); err != nil || !strings.HasPrefix(out.String(), "ok: ") {
		t.Errorf("menqian check after the run: %v\n%s\n%s", err, out.String(), errs.String())
	}
}

// seedFault creates, through the API of s, a county, a road, one shop per
// client and an officer, and returns the officer's token and the shops.
func seedFault(t *testing.T, s *server) (string, []int64) {
	t.Helper()
	admin := s.login(t, faultAdminPW)
	must := func(path string, body map[string]any) int64 {
		t.Helper()
		status, out := s.call(t, "POST", path, admin, body)
		id, _ := out["id"].(float64)
		if status != 201 || id == 0 {
			t.Fatalf("POST %s: %d %v", path, status, out)
		}
		return int64(id)
	}
	county := must("/api/v1/counties", map[string]any{"code": "370303", "name": "张店区"})
	road := must("/api/v1/roads", map[string]any{"county_id": county, "name": "柳泉路", "town": "车站街道"})
	var shops []int64
	for i := range faultClients {
		shops = append(shops, must("/api/v1/merchants", map[string]any{"road_id": road, "name": fmt.Sprintf("张记烧烤%d号店", i+1),
			"uscc": uscc(fmt.Sprintf("91370303%09d", 1000+i)), "phone": "13853312345", "category": "餐饮"}))
	}
	must("/api/v1/users", map[string]any{"username": "officer1", "password": faultOfficerPW, "role": "officer", "county_id": county})
	status, out := s.call(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "officer1", "password": faultOfficerPW})
	tok, _ := out["token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("login as officer1: %d %v", status, out)
	}
	return tok, shops
}

// privateMariaDB is a MariaDB server of the test's own: its data directory
// in a temporary directory, its own port, killed and restarted by the test.
type privateMariaDB struct {
	t    *testing.T
	bin  string
	args []string
	port int
	cmd  *exec.Cmd
	log  string
}

// findBinary looks for one of names on PATH and in /usr/sbin and /usr/bin.
func findBinary(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
			if p := filepath.Join(dir, n); fileExecutable(p) {
				return p
			}
		}
	}
	return ""
}

func fileExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// startPrivateMariaDB installs a fresh data directory and starts a server
// on a free port; it skips the test when MariaDB is not installed, unless
// MENQIAN_TEST_REQUIRE=1.
func startPrivateMariaDB(t *testing.T) *privateMariaDB {
	t.Helper()
	install, server := findBinary("mariadb-install-db", "mysql_install_db"), findBinary("mariadbd", "mysqld")
	if install == "" || server == "" {
		if os.Getenv(dbtest.EnvRequire) == "1" {
			t.Fatalf("mariadb-install-db and mariadbd are required (MENQIAN_TEST_REQUIRE=1) but not installed (apt-get install mariadb-server)")
		}
		t.Skip("mariadb-install-db or mariadbd not installed")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	user := []string{}
	if os.Geteuid() == 0 {
		user = []string{"--user=root"} // mariadbd refuses to run as root without it
	}
	out, err := exec.Command(install, append([]string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal",
		"--skip-test-db"}, user...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", install, err, out)
	}
	_, portStr, _ := net.SplitHostPort(freeAddr(t))
	m := &privateMariaDB{t: t, bin: server, log: filepath.Join(dir, "error.log")}
	fmt.Sscan(portStr, &m.port)
	m.args = append([]string{"--no-defaults", "--datadir=" + data, "--socket=" + filepath.Join(dir, "mysqld.sock"),
		"--port=" + portStr, "--bind-address=127.0.0.1", "--skip-name-resolve", "--skip-log-bin",
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--log-error=" + m.log,
		"--innodb-buffer-pool-size=32M", "--max-connections=300"}, user...)
	m.start()
	t.Cleanup(func() {
		if m.cmd != nil {
			m.cmd.Process.Kill()
			m.cmd.Wait()
		}
	})
	return m
}

// start runs the server and waits until its port accepts connections.
func (m *privateMariaDB) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, m.args...)
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	waitFor(m.t, "private MariaDB listening", 60*time.Second, func() bool { return accepting(m.addr()) })
}

// kill ends the server with SIGKILL, as a crash or the OOM killer would.
func (m *privateMariaDB) kill() {
	m.t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		m.t.Fatal(err)
	}
	m.cmd.Wait()
	m.cmd = nil
}

func (m *privateMariaDB) addr() string { return fmt.Sprintf("127.0.0.1:%d", m.port) }

// TestFaultMariaDBKilled: MariaDB is killed (-9) and restarted on the same
// port and data while 10 clients record inspections, each retrying with its
// key. While it is down inspections are 503 with Retry-After; serve recovers
// by itself; every 201 is stored once with its id; `menqian check` is clean
// (issue 16's fault suite).
func TestFaultMariaDBKilled(t *testing.T) {
	m := startPrivateMariaDB(t)
	t.Setenv(dbtest.EnvMySQL, "root@tcp("+m.addr()+")/")
	dsn := dbtest.MySQLDSN(t) // a fresh database on the private server
	env := map[string]string{"MENQIAN_MYSQL_DSN": dsn, "MENQIAN_ADMIN_PASSWORD": faultAdminPW,
		"MENQIAN_PHOTO_DIR": filepath.Join(t.TempDir(), "photos"), "MENQIAN_REQUEST_TIMEOUT": "5s"}
	env["MENQIAN_REDIS_URL"] = redistest.Start(t).URL()
	s := startServe(t, env, "/readyz")
	token, shops := seedFault(t, s)
	db := openFaultDB(t, dsn)
	_, shop := s.call(t, "GET", fmt.Sprintf("/api/v1/merchants/%d", shops[0]), token, nil)
	board := fmt.Sprintf("/api/v1/leaderboards/merchants?scope=county&id=%v&limit=100", shop["county_id"])

	l := newFaultLoad(token, shops, s.base)
	l.start()
	ok := func(a faultAnswer) bool { return a.status == 201 }
	waitFor(t, "50 inspections before the kill", 60*time.Second, func() bool { return l.count(ok) >= 50 })
	if got := readBoard(t, s.base+board, token); got.status != 200 || got.warning != "" || got.total != faultClients {
		t.Fatalf("the county's board before the kill: %+v", got)
	}

	killed := time.Now()
	m.kill()
	refused := func(a faultAnswer) bool { return a.status == 503 && a.start.After(killed) }
	// Down for at least 2 s, and long enough that the clients were refused
	// a good many times.
	waitFor(t, "inspections refused while MariaDB is down", 30*time.Second, func() bool {
		return l.count(refused) >= 20 && time.Since(killed) >= 2*time.Second
	})
	if status, _ := s.call(t, "GET", "/readyz", "", nil); status != 503 {
		t.Errorf("readyz while MariaDB is down: %d, want 503", status)
	}
	// The leaderboard keeps answering, from Redis and the last county view,
	// marked stale.
	if got := readBoard(t, s.base+board, token); got.status != 200 || got.warning != `110 menqian "Response is Stale"` || got.total != faultClients {
		t.Errorf("the county's board while MariaDB is down: %+v, want 200 with all %d shops, marked stale", got, faultClients)
	}
	down := time.Since(killed)

	restarted := time.Now()
	m.start()
	back := time.Since(restarted)
	recovered := func(a faultAnswer) bool { return a.status == 201 && a.start.After(restarted) }
	waitFor(t, "an inspection recorded after the restart", 30*time.Second, func() bool { return l.count(recovered) >= 1 })
	var recoverIn time.Duration
	l.mu.Lock()
	for _, a := range l.answers {
		if a.status == 201 && a.start.After(restarted) && (recoverIn == 0 || a.end.Sub(restarted) < recoverIn) {
			recoverIn = a.end.Sub(restarted)
		}
	}
	l.mu.Unlock()
	waitFor(t, "50 inspections after the restart", 60*time.Second, func() bool { return l.count(recovered) >= 50 })
	l.finish()
	if status, _ := s.call(t, "GET", "/readyz", "", nil); status != 200 {
		t.Errorf("readyz after the restart: %d, want 200 (recovered without a restart of serve)", status)
	}

	// Every answer is a 201 or, while MariaDB was down, a 503 that says when
	// to retry; nothing else, and every key ends answered.
	l.mu.Lock()
	refusedN := 0
	for _, a := range l.answers {
		switch {
		case a.status == 201:
		case a.status == 503 && a.code == "unavailable" && a.retryAfter != "":
			refusedN++
		default:
			t.Errorf("key %s: %d %q Retry-After %q, err %v; want 201, or 503 unavailable with Retry-After", a.key, a.status, a.code, a.retryAfter, a.err)
		}
	}
	l.mu.Unlock()
	f := l.verify(t, db)
	if f.created == 0 || f.lost != 0 || f.doubled != 0 {
		t.Errorf("201s %d, lost %d, doubled %d", f.created, f.lost, f.doubled)
	}
	// After recovery the board is fresh again, and its scores are the
	// database's.
	got := readBoard(t, s.base+board, token)
	if got.status != 200 || got.warning != "" || got.total != faultClients {
		t.Errorf("the county's board after the restart: %+v", got)
	}
	for id, score := range got.scores {
		var stored int
		if err := db.SQL().QueryRow("SELECT score FROM scores WHERE merchant_id = ? AND cycle = ?", id, got.cycle).Scan(&stored); err != nil || stored != score {
			t.Errorf("shop %d: the board says %d, the database %d (%v)", id, score, stored, err)
		}
	}
	s.shutdown(t)
	checkClean(t, env)
	t.Logf("MariaDB killed -9 and restarted: requests sent %d, 201s %d, 503s %d, stored %d, lost %d, doubled %d, longest stall %v, "+
		"down %v, mariadbd accepting %v after its restart, first 201 %v after the restart (time to recover)",
		f.sent, f.created, refusedN, f.stored, f.lost, f.doubled, f.stall.Round(time.Millisecond), down.Round(time.Millisecond),
		back.Round(time.Millisecond), recoverIn.Round(time.Millisecond))
}

// TestFaultSlowDatabase: the scores table locked for 3 s (LOCK TABLES ...
// WRITE, as a long migration or a stuck transaction would) during a run of
// retrying clients. Every attempt meanwhile is answered within its deadline
// (MENQIAN_REQUEST_TIMEOUT, 1 s here) with 503 and Retry-After, none piles
// up behind the lock, and after the unlock every key records exactly once
// (issue 16, defect 14).
func TestFaultSlowDatabase(t *testing.T) {
	dsn := dbtest.MySQLDSN(t)
	const timeout = time.Second
	env := map[string]string{"MENQIAN_MYSQL_DSN": dsn, "MENQIAN_ADMIN_PASSWORD": faultAdminPW,
		"MENQIAN_PHOTO_DIR": filepath.Join(t.TempDir(), "photos"), "MENQIAN_SECRET": "fault-secret-0123456789"}
	// Seeded with the default deadline (the sign-ins' password checks may
	// take over a second on a loaded machine), then served with a short one.
	s := startServe(t, env, "/readyz")
	token, shops := seedFault(t, s)
	s.shutdown(t)
	env["MENQIAN_REQUEST_TIMEOUT"] = timeout.String()
	s = startServe(t, env, "/readyz")
	db := openFaultDB(t, dsn)
	conn, err := db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	l := newFaultLoad(token, shops, s.base)
	l.start()
	ok := func(a faultAnswer) bool { return a.status == 201 }
	waitFor(t, "50 inspections before the lock", 60*time.Second, func() bool { return l.count(ok) >= 50 })
	if _, err := conn.ExecContext(context.Background(), "LOCK TABLES scores WRITE"); err != nil {
		t.Fatal(err)
	}
	locked := time.Now()
	time.Sleep(3 * time.Second)
	if _, err := conn.ExecContext(context.Background(), "UNLOCK TABLES"); err != nil {
		t.Fatal(err)
	}
	unlocked := time.Now()
	recovered := func(a faultAnswer) bool { return a.status == 201 && a.start.After(unlocked) }
	waitFor(t, "50 inspections after the unlock", 60*time.Second, func() bool { return l.count(recovered) >= 50 })
	l.finish()

	l.mu.Lock()
	var refused, during int
	var longest, recoverIn time.Duration
	for _, a := range l.answers {
		if a.start.After(locked) && a.start.Before(unlocked) {
			during++
			longest = max(longest, a.end.Sub(a.start))
		}
		switch {
		case a.status == 201:
			if a.start.After(unlocked) && (recoverIn == 0 || a.end.Sub(unlocked) < recoverIn) {
				recoverIn = a.end.Sub(unlocked)
			}
		case a.status == 503 && a.code == "unavailable" && a.retryAfter != "":
			refused++
		default:
			t.Errorf("key %s: %d %q Retry-After %q, err %v; want 201, or 503 unavailable with Retry-After", a.key, a.status, a.code, a.retryAfter, a.err)
		}
	}
	l.mu.Unlock()
	if refused == 0 {
		t.Error("no attempt was refused while the table was locked")
	}
	f := l.verify(t, db)
	if f.created == 0 || f.lost != 0 || f.doubled != 0 {
		t.Errorf("201s %d, lost %d, doubled %d", f.created, f.lost, f.doubled)
	}
	s.shutdown(t)
	checkClean(t, env)
	t.Logf("scores locked 3 s: requests sent %d (%d while locked), 201s %d, 503s %d, stored %d, lost %d, doubled %d, "+
		"longest answer while locked %v (deadline %v), longest stall %v, first 201 %v after the unlock (time to recover)",
		f.sent, during, f.created, refused, f.stored, f.lost, f.doubled, longest.Round(time.Millisecond), timeout,
		f.stall.Round(time.Millisecond), recoverIn.Round(time.Millisecond))
}

// boardRead is one read of a merchant leaderboard.
type boardRead struct {
	status  int
	warning string
	total   int
	cycle   string
	scores  map[int64]int // merchant → score
}

func readBoard(t *testing.T, url, token string) boardRead {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Items []struct {
			MerchantID int64 `json:"merchant_id"`
			Score      int   `json:"score"`
		} `json:"items"`
		Total int    `json:"total"`
		Cycle string `json:"cycle"`
	}
	json.NewDecoder(res.Body).Decode(&page)
	out := boardRead{status: res.StatusCode, warning: res.Header.Get("Warning"), total: page.Total, cycle: page.Cycle, scores: map[int64]int{}}
	for _, it := range page.Items {
		out.scores[it.MerchantID] = it.Score
	}
	return out
}

// slowInspection sends an inspection on its own connection in two halves:
// begin writes the headers and half the body, and end the rest and reads the
// answer. Between them the request is in flight.
type slowInspection struct {
	conn net.Conn
	rest []byte
}

func beginSlowInspection(t *testing.T, base, token, key string, merchant int64) *slowInspection {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	body, _ := json.Marshal(map[string]any{"merchant_id": merchant, "items": []map[string]any{{"rule_code": "BONUS-01"}}, "photos": []int64{}})
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("POST /api/v1/inspections HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Idempotency-Key: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", host, token, key, len(body))
	if _, err := conn.Write(append([]byte(head), body[:len(body)/2]...)); err != nil {
		t.Fatal(err)
	}
	return &slowInspection{conn: conn, rest: body[len(body)/2:]}
}

func (s *slowInspection) end(t *testing.T) (int, int64) {
	t.Helper()
	defer s.conn.Close()
	if _, err := s.conn.Write(s.rest); err != nil {
		t.Fatalf("the in-flight request's rest: %v", err)
	}
	s.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request's answer: %v", err)
	}
	defer res.Body.Close()
	var out struct {
		ID int64 `json:"id"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out.ID
}

// TestFaultTwoInstancesOneStops: two serves on one MariaDB database, the
// clients alternating between them as a load balancer that follows /readyz
// would send them; one is stopped (SIGTERM: its context) mid-run with a 1 s
// drain. A request in flight when it stops accepting finishes, nothing is
// lost or doubled, and every request to the other succeeds throughout.
func TestFaultTwoInstancesOneStops(t *testing.T) {
	dsn := dbtest.MySQLDSN(t)
	photos := filepath.Join(t.TempDir(), "photos")
	envA := map[string]string{"MENQIAN_MYSQL_DSN": dsn, "MENQIAN_ADMIN_PASSWORD": faultAdminPW, "MENQIAN_PHOTO_DIR": photos, "MENQIAN_DRAIN": "1s"}
	a := startServe(t, envA, "/readyz")
	envB := map[string]string{"MENQIAN_MYSQL_DSN": dsn, "MENQIAN_ADMIN_PASSWORD": faultAdminPW, "MENQIAN_PHOTO_DIR": photos}
	b := startServe(t, envB, "/readyz")
	token, shops := seedFault(t, a)
	db := openFaultDB(t, dsn)

	l := newFaultLoad(token, shops, a.base, b.base)
	// The balancer: A leaves the route once its /readyz says 503.
	balancerDone := make(chan struct{})
	go func() {
		defer close(balancerDone)
		for !l.stop.Load() {
			if r, err := http.Get(a.base + "/readyz"); err != nil || r.StatusCode == 503 {
				if err == nil {
					r.Body.Close()
				}
				l.route.Store(&[]int{1})
				return
			} else {
				r.Body.Close()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	l.start()
	okAt := func(inst int, after time.Time) func(faultAnswer) bool {
		return func(x faultAnswer) bool { return x.status == 201 && x.instance == inst && x.start.After(after) }
	}
	waitFor(t, "20 inspections on each instance", 60*time.Second, func() bool {
		return l.count(okAt(0, time.Time{})) >= 20 && l.count(okAt(1, time.Time{})) >= 20
	})

	slow := beginSlowInspection(t, a.base, token, "fault-slow", shops[0])
	stopped := time.Now()
	a.stop()
	waitFor(t, "A stops accepting after its drain", 30*time.Second, func() bool { return !accepting(strings.TrimPrefix(a.base, "http://")) })
	closed := time.Now()
	status, id := slow.end(t)
	if status != 201 || id == 0 {
		t.Errorf("the request in flight when A stopped accepting: %d (id %d), want 201", status, id)
	}
	l.mu.Lock()
	l.keys = append(l.keys, "fault-slow")
	l.mu.Unlock()
	l.add(faultAnswer{instance: 0, key: "fault-slow", status: status, id: id, start: stopped, end: time.Now()})
	waitFor(t, "30 inspections on B after A closed", 60*time.Second, func() bool { return l.count(okAt(1, closed)) >= 30 })
	l.finish()
	<-balancerDone
	a.shutdown(t)

	l.mu.Lock()
	var toA, toB, refusedA, inFlight int
	for _, x := range l.answers {
		if x.instance == 0 {
			toA++
			if x.start.Before(stopped) && x.end.After(stopped) {
				inFlight++
			}
		} else {
			toB++
		}
		switch {
		case x.status == 201:
		case x.instance == 0 && x.dialErr && x.start.After(stopped):
			refusedA++ // sent after the balancer's last look, to a closed listener: nothing was sent
		default:
			t.Errorf("instance %d, key %s: %d %q, err %v; want 201", x.instance, x.key, x.status, x.code, x.err)
		}
	}
	var bOK []time.Time
	for _, x := range l.answers {
		if x.instance == 1 && x.status == 201 {
			bOK = append(bOK, x.end)
		}
	}
	l.mu.Unlock()
	stallB := longestGap(bOK)
	f := l.verify(t, db)
	if f.lost != 0 || f.doubled != 0 {
		t.Errorf("lost %d, doubled %d", f.lost, f.doubled)
	}
	b.shutdown(t)
	checkClean(t, envB)
	t.Logf("two instances, A stopped (drain 1s): requests sent %d (A %d, B %d), 201s %d, stored %d, lost %d, doubled %d, "+
		"longest stall on B %v (of all 201s %v), A in flight at the signal %d, refused by A's closed listener %d, A closed %v after the signal",
		f.sent, toA, toB, f.created, f.stored, f.lost, f.doubled, stallB.Round(time.Millisecond), f.stall.Round(time.Millisecond),
		inFlight, refusedA, closed.Sub(stopped).Round(time.Millisecond))
}
