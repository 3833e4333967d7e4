package leaderboard

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestOlderChangeIsIgnored: two commits of one merchant whose notifications
// arrive in the wrong order leave the newer score, not the last one heard.
func TestOlderChangeIsIgnored(t *testing.T) {
	db := dbtest.Open(t, models.SQLite)
	fx := seedBoard(t, db)
	_, r := newBoards(t, db, fx.cycle)
	servesFromRedis(t, r, fx.cycle)
	ctx := context.Background()
	m := fx.merchants[0]
	score := func() int {
		t.Helper()
		items, _, err := r.Top(ctx, fx.cycle, Scope{Kind: City}, MaxLimit, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.MerchantID == m.ID {
				return it.Score
			}
		}
		t.Fatalf("merchant %d not ranked", m.ID)
		return 0
	}
	r.ScoreChanged(ctx, m, fx.cycle, 92, 6) // the later commit, heard first
	r.ScoreChanged(ctx, m, fx.cycle, 95, 5) // the earlier commit, heard late
	if got := score(); got != 92 {
		t.Errorf("after versions 6 then 5: score %d, want 92", got)
	}
	r.ScoreChanged(ctx, m, fx.cycle, 90, 7)
	if got := score(); got != 90 {
		t.Errorf("after version 7: score %d, want 90", got)
	}
	r.ScoreChanged(ctx, m, fx.cycle, 88, -1) // unordered changes always apply
	if got := score(); got != 88 {
		t.Errorf("after an unordered change: score %d, want 88", got)
	}
}

// TestCrossedCountyWrites: two changes of one merchant write the city keys in
// order but reach the county keys, in a script of their own, in the other
// order: the county and road sets keep the newer score too.
func TestCrossedCountyWrites(t *testing.T) {
	db := dbtest.Open(t, models.SQLite)
	fx := seedBoard(t, db)
	sql, r := newBoards(t, db, fx.cycle)
	ctx := context.Background()
	m := fx.merchants[0]
	// Both commits are in: 95 at version 5, then 92 at version 6.
	if _, err := db.SQL().Exec("UPDATE scores SET score = 92 WHERE merchant_id = ? AND cycle = ?", m.ID, fx.cycle); err != nil {
		t.Fatal(err)
	}
	county := r.keys(fx.cycle).county(m.CountyID)
	var crossed atomic.Bool
	r.rdb.AddHook(redisHook{command: func(cmd redis.Cmder) {
		// Version 5 is about to write the county keys: version 6, written by
		// another instance, overtakes it.
		if args := cmd.Args(); len(args) > 3 && args[3] == county && crossed.CompareAndSwap(false, true) {
			if err := r.apply(ctx, r.keys(fx.cycle), changeOf(m, 92, 6)); err != nil {
				t.Error(err)
			}
		}
	}})
	r.ScoreChanged(ctx, m, fx.cycle, 95, 5)
	if !crossed.Load() {
		t.Fatal("the county write of version 5 was not seen")
	}
	servesFromRedis(t, r, fx.cycle)
	sameAnswers(t, db, sql, r, fx.cycle)
}
