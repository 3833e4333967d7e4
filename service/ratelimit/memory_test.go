package ratelimit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/menqian/menqian/service/ratelimit"
	"github.com/menqian/menqian/service/ratelimit/ratelimittest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	ratelimittest.Run(t, ratelimit.NewMemory(100))
}

// Past maxKeys, a new key first drops the buckets that refilled (as good as
// absent), then any: the map stays bounded.
func TestMemoryBoundsKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := ratelimit.Limit{Name: "l", N: 2, Window: time.Hour}
	m := ratelimit.NewMemory(3)
	now := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
	for _, id := range []string{"a", "b", "busy", "busy"} {
		m.Take(ctx, now, l.Key(id))
	}
	now = now.Add(31 * time.Minute) // a and b are full again; busy holds 1 of 2
	m.Take(ctx, now, l.Key("new"))
	if got := m.Buckets("l"); got != 2 {
		t.Errorf("after a new key: %d buckets, want 2 (busy and new; the refilled ones dropped)", got)
	}
	m.Take(ctx, now, l.Key("busy"))
	if wait, _ := m.Take(ctx, now, l.Key("busy")); wait == 0 {
		t.Errorf("busy kept no bucket: it took 3 of 2 within the window")
	}
	for i := range 10 {
		m.Take(ctx, now, l.Key("more"+strconv.Itoa(i)))
		if got := m.Buckets("l"); got > 3 {
			t.Fatalf("after key %d: %d buckets, want at most 3", i, got)
		}
	}
}
