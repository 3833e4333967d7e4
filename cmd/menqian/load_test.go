package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
)

// TestLoad runs `menqian load` end to end on a tiny city, on each dialect:
// every read is fetched, measured against the bare handler and reported
// with a ratio; the writer records inspections without a failure while
// the reads run; the seeded data (and what the writer added) passes
// `menqian check`. The full run measures with the built-in client (wrk
// counts whole seconds); a second run reuses the city and measures the
// plaque reads with wrk. Then load refuses the seeded database without
// -reuse. A measurement, not a timing: nothing here asserts a speed.
func TestLoad(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Getenv(dbtest.EnvRequire) == "1" {
			t.Fatal("wrk is required (MENQIAN_TEST_REQUIRE=1): apt-get install wrk")
		}
		t.Skip("wrk not installed (apt-get install wrk)")
	}
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			dt := openDemoTarget(t, d)
			ctx := context.Background()
			var out bytes.Buffer
			err := run(ctx, []string{"load", "-counties", "2", "-shops", "60", "-roads", "3", "-duration", "50ms", "-warmup", "0", "-connections", "4"},
				dt.env, &out, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("load: %v\n%s", err, out.String())
			}
			t.Logf("%s", out.String())
			rows := loadTable(t, out.String())
			for _, r := range loadReads(loadCast{}, map[string]string{}, map[string]string{}) {
				if _, ok := rows[r.name]; !ok {
					t.Errorf("no measurement of %q", r.name)
				}
			}
			if _, ok := rows["merchant: appeal form"]; !ok {
				t.Errorf("no measurement of the appeal form (the merchant account has no deduction?)")
			}
			m := regexp.MustCompile(`Writes during the reads: [0-9.]+/s reached \(target 10/s\): (\d+) inspections recorded, (\d+) failed`).FindStringSubmatch(out.String())
			if m == nil || m[1] == "0" || m[2] != "0" {
				t.Errorf("writer: %v, want inspections recorded and none failed", m)
			}
			for _, want := range []string{"Peak RSS: ", "Dialect: " + string(d), "Total time: "} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the report does not say %q", want)
				}
			}
			checkLoadDB(t, dt)

			// Again on the same city, the plaque reads under wrk.
			out.Reset()
			err = run(ctx, []string{"load", "-reuse", "-only", "^/q/", "-duration", "1s", "-warmup", "0", "-connections", "8"},
				dt.env, &out, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("load -reuse: %v\n%s", err, out.String())
			}
			t.Logf("%s", out.String())
			rows = loadTable(t, out.String())
			if len(rows) != 2 || !strings.Contains(out.String(), "Reusing the city load seeded") {
				t.Errorf("-reuse -only ^/q/ measured %v, want the two plaque reads of the reused city", rows)
			}
			checkLoadDB(t, dt)

			err = run(ctx, []string{"load", "-duration", "100ms"}, dt.env, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), "-reuse") {
				t.Errorf("load on its own city without -reuse: %v, want a refusal naming -reuse", err)
			}
		})
	}
	t.Run("refuses", func(t *testing.T) {
		t.Parallel()
		dt := openDemoTarget(t, models.SQLite)
		code, name := "370303", "张店区"
		if _, err := dt.service(time.Now()).CreateCounty(context.Background(), service.Actor{Role: service.RoleCityAdmin},
			service.CountyInput{Code: &code, Name: &name}); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"load"}, {"load", "-reuse"}} {
			err := run(context.Background(), append(args, "-duration", "100ms"), dt.env, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Errorf("%v on a database with a county of its own: %v, want a refusal", args, err)
			}
		}
	})
}

// loadTable parses the report's table: each read's ratio, which must be a
// positive number (every read answered and was measured).
func loadTable(t *testing.T, out string) map[string]float64 {
	t.Helper()
	rows := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 12 || strings.HasPrefix(line, "| read") || strings.HasPrefix(line, "|---") {
			continue
		}
		name := strings.TrimSpace(cells[1])
		ratio, err := strconv.ParseFloat(strings.TrimSpace(cells[4]), 64)
		if err != nil || ratio <= 0 {
			t.Errorf("read %q: ratio %q is not a positive number: %s", name, cells[4], line)
			continue
		}
		rows[name] = ratio
	}
	return rows
}

// checkLoadDB runs `menqian check` on the target's database.
func checkLoadDB(t *testing.T, dt demoTarget) {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check"}, dt.env, &out, &bytes.Buffer{}); err != nil || !strings.HasPrefix(out.String(), "ok: ") {
		t.Errorf("check after load: %v\n%s", err, out.String())
	}
}

// TestParseWrk reads the rate, the median and 99th percentile and the
// errors of a wrk --latency report.
func TestParseWrk(t *testing.T) {
	report := `Running 10s test @ http://127.0.0.1:40000/q/x
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.09ms  513.74us  13.11ms   76.44%
    Req/Sec    29.93k     2.47k   35.57k    70.50%
  Latency Distribution
     50%  980.00us
     75%    1.30ms
     90%    1.71ms
     99%    2.69ms
  595687 requests in 10.01s, 72.72MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 5
Requests/sec:  59524.47
Transfer/sec:      7.27MB
`
	r, err := parseWrk([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	want := loadResult{rps: 59524.47, p50: 980 * time.Microsecond, p99: 2690 * time.Microsecond, errors: 10}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused")); err == nil {
		t.Error("a report without Requests/sec parsed")
	}
	for r, want := range map[float64]string{0.5: "0.500", 0.0384: "0.038", 0.00384: "0.0038", 0.0000271: "0.000027", 1.25: "1.250", 0: "0.000"} {
		if got := formatRatio(r); got != want {
			t.Errorf("formatRatio(%g) = %q, want %q", r, got, want)
		}
	}
}

// TestLoadMixed runs `menqian load -mixed` on a tiny city, on each dialect:
// two serve processes (this test binary, race detector included), every
// journey at a few a second for a few seconds, a month closed halfway, the
// plaque reads against their baselines after it. Every endpoint answers
// what it should and nothing else (the flood of one address's reports is
// refused 429, which is expected), the close worked, every instance's peak
// RSS is reported, and the consistency checks pass: inspections answered
// 201 stored once with their ledger, `menqian check` clean. A smoke run,
// not a timing: nothing here asserts a speed.
func TestLoadMixed(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			dt := openDemoTarget(t, d)
			env := dt.env
			if d == models.MySQL { // as deployed: MariaDB and Redis
				env = testRedisEnv(t, env)
			}
			var out bytes.Buffer
			err := run(context.Background(), []string{"load", "-mixed", "-counties", "2", "-shops", "60", "-roads", "3", "-officers", "2",
				"-accounts", "3", "-mix-duration", "3s", "-mix-rate", "2", "-only", "^/q/", "-duration", "50ms", "-warmup", "0", "-connections", "4"},
				env, &out, &bytes.Buffer{})
			t.Logf("%s", out.String())
			if err != nil {
				t.Fatalf("load -mixed: %v", err)
			}
			rows := map[string][]string{}
			for _, line := range strings.Split(out.String(), "\n") {
				cells := strings.Split(line, "|")
				if len(cells) == 12 {
					rows[strings.TrimSpace(cells[1])] = cells[2:11]
				}
			}
			for _, name := range mixEndpoints {
				r, ok := rows[name]
				if !ok {
					t.Errorf("no row of %q", name)
					continue
				}
				okN, _ := strconv.Atoi(strings.TrimSpace(r[1]))
				refused, _ := strconv.Atoi(strings.TrimSpace(r[2]))
				errs := strings.TrimSpace(r[3])
				if okN == 0 && name != epResend || errs != "0" {
					t.Errorf("%s: %d answered as expected, errors %s; want some and none", name, okN, errs)
				}
				// The flood is refused 429; a sign-in may be refused 503 (busy) and retried.
				if name == epFlood && refused == 0 || name != epFlood && name != epLogin && name != epAPILogin && refused > 0 {
					t.Errorf("%s: %d refused, want some for the flood and none but sign-ins elsewhere", name, refused)
				}
			}
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile("Month close: `menqian close-cycle \\d{4}-\\d{2}` started \\d+s into the mix and took .* \\(closed \\d{4}-\\d{2}: froze the results of 120 merchants\\)"),
				regexp.MustCompile(`\| instance 1 \(.menqian serve., pid \d+\) \| [0-9.]+ \| [1-9]\d* MiB \| [1-9]\d* MiB \|`),
				regexp.MustCompile(`\| instance 2 \(.menqian serve., pid \d+\) \| [0-9.]+ \| [1-9]\d* MiB \| [1-9]\d* MiB \|`),
				regexp.MustCompile(`(?m)^Consistency: ok\.$`),
				regexp.MustCompile(`- inspections: [1-9]\d* answered 201 \(0 of them to a resend.*\), [1-9]\d* stored under this run's keys \(0 of them sent without a final answer\), each once; ledger entries sum to each delta: true`),
				regexp.MustCompile(`- menqian check: ok: `),
			} {
				if !want.MatchString(out.String()) {
					t.Errorf("the report does not say %s", want)
				}
			}
			_, baselines, _ := strings.Cut(out.String(), "\n| read |")
			if m := regexp.MustCompile(`- inspections: (\d+) answered 201 .*, (\d+) stored under`).FindStringSubmatch(out.String()); m == nil || m[1] != m[2] {
				t.Errorf("inspections answered 201 and stored: %v, want as many", m)
			}
			if d == models.MySQL {
				for _, want := range []*regexp.Regexp{
					regexp.MustCompile(`- boards: the Redis merchant boards of the city and of each county equal the county views' \(SQL\), line by line \(240 lines\)`),
					regexp.MustCompile(`\| Redis \(redis-server, pid \d+\) \| [0-9.]+ \|`),
					regexp.MustCompile(`Redis, server-wide: \d+ commands/s\.`),
					regexp.MustCompile(`MariaDB, server-wide: \d+ queries/s`),
				} {
					if !want.MatchString(out.String()) {
						t.Errorf("the report does not say %s", want)
					}
				}
			}
			if reads := loadTable(t, baselines); len(reads) != 2 {
				t.Errorf("baselines: measured %v, want the two plaque reads", reads)
			}
			checkLoadDB(t, dt)
		})
	}
}

// testRedisEnv adds the test Redis to env, under a key prefix of the test's
// own (MENQIAN_REDIS_PREFIX), whose keys are removed afterwards.
func testRedisEnv(t *testing.T, env func(string) string) func(string) string {
	t.Helper()
	u := dbtest.RedisURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "loadtest" + hex.EncodeToString(b)
	t.Cleanup(func() {
		rdb, err := leaderboard.Connect(u)
		if err != nil {
			t.Error(err)
			return
		}
		defer rdb.Close()
		ctx := context.Background()
		for iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator(); iter.Next(ctx); {
			rdb.Unlink(ctx, iter.Val())
		}
	})
	return func(k string) string {
		switch k {
		case "MENQIAN_REDIS_URL":
			return u
		case "MENQIAN_REDIS_PREFIX":
			return prefix
		}
		return env(k)
	}
}

// TestLoadMixedFlags: bad -mixed flags are refused before anything is seeded.
func TestLoadMixedFlags(t *testing.T) {
	dt := openDemoTarget(t, models.SQLite)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-skip", "("}, "-skip"},
		{[]string{"-instances", "0"}, "-instances"},
		{[]string{"-mix-duration", "10ms"}, "-mix-duration"},
		{[]string{"-officers", "101"}, "-officers"},
	} {
		err := run(context.Background(), append([]string{"load", "-mixed"}, c.args...), dt.env, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("load -mixed %v: %v, want an error naming %s", c.args, err, c.want)
		}
	}
	var n int
	if err := dt.db.SQL().QueryRow("SELECT COUNT(*) FROM counties").Scan(&n); err != nil || n != 0 {
		t.Errorf("counties after refused runs: %d, %v; want none", n, err)
	}
}
