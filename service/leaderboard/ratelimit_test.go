package leaderboard

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/service/ratelimit"
	"github.com/menqian/menqian/service/ratelimit/ratelimittest"
)

// The Redis limiter behaves as every limiter must, keeps its buckets under
// the prefix with an expiry at the time they are full again, and is shared
// by every board over the same Redis.
func TestRedisLimiter(t *testing.T) {
	rdb, prefix := sharedRedis(t)
	ratelimittest.Run(t, NewRedis(rdb, nil, nil, quiet(), WithPrefix(prefix)).Limiter())

	ctx := context.Background()
	one, other := NewRedis(rdb, nil, nil, quiet(), WithPrefix(prefix)).Limiter(), NewRedis(rdb, nil, nil, quiet(), WithPrefix(prefix)).Limiter()
	l := ratelimit.Limit{Name: "shared", N: 4, Window: time.Hour}
	now := time.Now()
	for i := range 4 {
		lim := []ratelimit.Limiter{one, other}[i%2]
		if wait, err := lim.Take(ctx, now, l.Key("1.2.3.4")); err != nil || wait != 0 {
			t.Fatalf("take %d: %v %v", i+1, wait, err)
		}
	}
	if wait, err := one.Take(ctx, now, l.Key("1.2.3.4")); err != nil || wait != 15*time.Minute {
		t.Errorf("fifth take over two instances: wait %v (%v), want 15m", wait, err)
	}
	key := prefix + ":{rl}:shared:1.2.3.4"
	ttl, err := rdb.PTTL(ctx, key).Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("PTTL %s = %v (%v), want just under 1h (the bucket is full again then)", key, ttl, err)
	}
}

// With Redis down the limits hold in each instance's memory, the outage is
// logged once, and once Redis is back they are shared again.
func TestRedisLimiterDown(t *testing.T) {
	srv := startRedisServer(t)
	rdb, err := Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	var log bytes.Buffer
	f := ratelimit.NewFallback(NewRedis(rdb, nil, nil, quiet()).Limiter(), ratelimit.NewMemory(100), slog.New(slog.NewTextHandler(&log, nil)))
	ctx := context.Background()
	l := ratelimit.Limit{Name: "down", N: 2, Window: time.Hour}
	now := time.Now()
	take := func(what string, want time.Duration) {
		t.Helper()
		wait, err := f.Take(ctx, now, l.Key("a"))
		if err != nil || wait != want {
			t.Fatalf("%s: wait %v (%v), want %v", what, wait, err, want)
		}
	}
	take("up #1", 0)
	take("up #2", 0)
	srv.Stop()
	// Memory has its own buckets: two more, then refused; never an error.
	take("down #1", 0)
	take("down #2", 0)
	take("down #3", 30*time.Minute)
	if n := strings.Count(log.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, log.String())
	}
	srv.Start() // empty: the shared buckets start full
	time.Sleep(1100 * time.Millisecond)
	take("back #1", 0)
	if !strings.Contains(log.String(), "answers again") {
		t.Errorf("Redis back: nothing logged:\n%s", log.String())
	}
	if n, _ := rdb.Exists(ctx, "lb:{rl}:down:a").Result(); n != 1 {
		t.Errorf("Redis back: the take was not kept in Redis")
	}
}
