package leaderboard

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/policy"
)

// builtBoard seeds the fixture on a database of dialect d and returns it, the
// database, a Redis board over the shared Redis that has rebuilt the cycle,
// and a maker of more instances sharing its keys.
func builtBoard(t *testing.T, d models.Dialect) (fixture, *models.DB, *Redis, func() *Redis) {
	t.Helper()
	db := dbtest.Open(t, d)
	fx := seedBoard(t, db)
	rdb, prefix := sharedRedis(t)
	another := func() *Redis { return NewRedis(rdb, db, policy.Default(), quiet(), WithPrefix(prefix)) }
	r := another()
	if err := r.Rebuild(context.Background(), fx.cycle); err != nil {
		t.Fatal(err)
	}
	return fx, db, r, another
}

// TestPageReadsSeeEarlierWrites keeps one instance busy with reads of a
// county page, so that its page reads are always being coalesced, while a
// second instance changes a merchant's score: every read of the county or the
// city that starts after a change returned must show it, though the page it
// last read is held.
func TestPageReadsSeeEarlierWrites(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			fx, _, reader, another := builtBoard(t, d)
			writer := another()
			ctx := context.Background()
			county := Scope{Kind: County, CountyID: fx.counties[0]}
			m := fx.merchants[0]

			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						items, total, err := reader.Top(ctx, fx.cycle, county, MaxLimit, 0)
						if err != nil || total != len(items) || total == 0 {
							t.Errorf("busy read: %d items of %d, %v", len(items), total, err)
							return
						}
					}
				}()
			}
			for i := range 200 {
				score := i % 111
				writer.ScoreChanged(ctx, m, fx.cycle, score, -1)
				for _, s := range []Scope{county, {Kind: City}} {
					items, _, err := reader.Top(ctx, fx.cycle, s, MaxLimit, 0)
					if err != nil {
						t.Fatal(err)
					}
					got := -1
					for _, it := range items {
						if it.Code == m.Code {
							got = it.Score
						}
					}
					if got != score {
						t.Fatalf("%s read %d after a change to %d: got %d", s.Kind, i, score, got)
					}
				}
			}
			close(stop)
			wg.Wait()
			servesFromRedis(t, reader, fx.cycle)
		})
	}
}

// TestHeldPagesFollowRebuilds reads every page once, so that each is held,
// then changes scores and a name in the database behind the board's back (as
// a lost notification would) and rebuilds while the cycle stays ready: every
// page must show the rebuilt sets, not the page held from before the swap.
func TestHeldPagesFollowRebuilds(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			fx, db, r, _ := builtBoard(t, d)
			sql := NewSQL(db, policy.Default())
			ctx := context.Background()
			sameAnswers(t, db, sql, r, fx.cycle)

			for i, m := range fx.merchants[:3] {
				if _, err := db.SQL().Exec(`UPDATE scores SET score = ? WHERE merchant_id = ? AND cycle = ?`, 50+i, m.ID, fx.cycle); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.SQL().Exec(`UPDATE merchants SET name = ? WHERE id = ?`, "改名的商户", fx.merchants[3].ID); err != nil {
				t.Fatal(err)
			}
			if err := r.Rebuild(ctx, fx.cycle); err != nil {
				t.Fatal(err)
			}
			servesFromRedis(t, r, fx.cycle)
			sameAnswers(t, db, sql, r, fx.cycle)
			items, _, err := r.Top(ctx, fx.cycle, Scope{Kind: County, CountyID: fx.counties[0]}, MaxLimit, 0)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]string{}
			for _, it := range items {
				names[it.Code] = it.Name
			}
			if names[fx.merchants[3].Code] != "改名的商户" {
				t.Errorf("county page after the rebuild names %s %q", fx.merchants[3].Code, names[fx.merchants[3].Code])
			}
		})
	}
}

// TestHeldPagesAge: a write that does not bump the version (a hand edit, or
// an older menqian during a rolling upgrade) is not hidden for longer than
// the held pages' age: the page is then read again.
func TestHeldPagesAge(t *testing.T) {
	fx, _, r, _ := builtBoard(t, models.SQLite)
	ctx := context.Background()
	county := Scope{Kind: County, CountyID: fx.counties[0]}
	scoreOf := func() int {
		t.Helper()
		items, _, err := r.Top(ctx, fx.cycle, county, MaxLimit, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Code == fx.merchants[0].Code {
				return it.Score
			}
		}
		t.Fatalf("%s not on the page %v", fx.merchants[0].Code, items)
		return 0
	}
	before := scoreOf()
	if err := r.rdb.ZAdd(ctx, r.keys(fx.cycle).county(county.CountyID), redis.Z{Score: -1, Member: fx.merchants[0].Code}).Err(); err != nil {
		t.Fatal(err)
	}
	if got := scoreOf(); got != before {
		t.Fatalf("an unversioned write showed at once (%d): the page was not held", got)
	}
	r.heldAge = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	if got := scoreOf(); got != 1 {
		t.Errorf("after the held age: score %d, want the written 1", got)
	}
}
