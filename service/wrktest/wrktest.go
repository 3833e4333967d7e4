// Package wrktest measures HTTP throughput with wrk, for the tests that set
// a handler's requests per second against a bare one's in the same run.
package wrktest

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// Args skips the test unless MENQIAN_BENCH_WRK=1 and wrk is installed, and
// returns the wrk flags: MENQIAN_BENCH_WRK_ARGS, default -t2 -c64 -d10s.
func Args(t *testing.T) []string {
	t.Helper()
	if os.Getenv("MENQIAN_BENCH_WRK") != "1" {
		t.Skip("set MENQIAN_BENCH_WRK=1 to run the wrk throughput comparison")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk not installed (apt-get install wrk)")
	}
	if v := os.Getenv("MENQIAN_BENCH_WRK_ARGS"); v != "" {
		return regexp.MustCompile(`\s+`).Split(v, -1)
	}
	return []string{"-t2", "-c64", "-d10s"}
}

var requestsPerSec = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// RPS runs wrk with args against url, sending headers ("Name: value"), logs
// its report and returns its requests per second.
func RPS(t *testing.T, url string, headers []string, args ...string) float64 {
	t.Helper()
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	m := requestsPerSec.FindSubmatch(out)
	if m == nil {
		t.Fatalf("wrk output without Requests/sec:\n%s", out)
	}
	t.Logf("wrk %s %q:\n%s", url, headers, out)
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	return rps
}

// Ratio warms both servers up (connections, caches), then measures the
// target and the bare baseline one after the other with args, and returns
// both rates.
func Ratio(t *testing.T, target string, targetHeaders []string, bare string, bareHeaders []string, args []string) (float64, float64) {
	t.Helper()
	RPS(t, target, targetHeaders, "-t1", "-c4", "-d1s")
	RPS(t, bare, bareHeaders, "-t1", "-c4", "-d1s")
	return RPS(t, target, targetHeaders, args...), RPS(t, bare, bareHeaders, args...)
}
