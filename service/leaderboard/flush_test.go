package leaderboard

import (
	"context"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/policy"
)

// TestFlushAllBetweenReads flushes a Redis of the test's own between two
// reads: the second read is still right (from SQL), and Run rebuilds the sets
// so that Redis answers again.
func TestFlushAllBetweenReads(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			srv := startRedisServer(t)
			rdb, err := Connect(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Close() })
			db := dbtest.Open(t, d)
			fx := seedBoard(t, db)
			p := policy.Default()
			november := func() time.Time { return time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC) }
			r := NewRedis(rdb, db, p, quiet(), WithClock(november))
			sql := NewSQL(db, p)
			ctx := context.Background()
			if err := r.Rebuild(ctx, fx.cycle); err != nil {
				t.Fatal(err)
			}
			servesFromRedis(t, r, fx.cycle)
			sameAnswers(t, db, sql, r, fx.cycle)

			if err := rdb.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			sameAnswers(t, db, sql, r, fx.cycle)
			if ServedFromRedis(r, fx.cycle) {
				t.Fatal("flushed cycle still claims to be ready")
			}

			runBoard(t, r, time.Minute) // the reads above asked it to rebuild at once
			waitServed(t, r, fx.cycle, 10*time.Second)
			sameAnswers(t, db, sql, r, fx.cycle)
		})
	}
}
