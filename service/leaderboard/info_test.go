package leaderboard

import (
	"context"
	"strconv"
	"testing"

	"github.com/menqian/menqian/service/policy"
)

// TestServerStats reads what Redis says of itself: its process, its CPU
// time and the commands it processed, which grow with the commands sent.
func TestServerStats(t *testing.T) {
	rdb, prefix := sharedRedis(t)
	r := NewRedis(rdb, nil, policy.Default(), quiet(), WithPrefix(prefix))
	ctx := context.Background()
	number := func(s map[string]string, k string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(s[k], 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", k, s[k], err)
		}
		return v
	}
	before, err := r.ServerStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if number(before, "process_id") <= 0 || number(before, "used_cpu_user") < 0 || number(before, "used_memory") <= 0 {
		t.Errorf("stats without a process, CPU time or memory: %v", before)
	}
	for range 10 {
		rdb.Get(ctx, prefix+":x")
	}
	after, err := r.ServerStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := number(after, "total_commands_processed") - number(before, "total_commands_processed"); got < 10 {
		t.Errorf("commands processed grew by %g after 10 GETs, want at least 10", got)
	}
}
