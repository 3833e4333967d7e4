package leaderboard

import (
	"context"
	"sync"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/policy"
)

// TestPageReadsSeeEarlierWrites keeps one instance busy with reads of a
// county page, so that its page reads are always being coalesced, while a
// second instance changes a merchant's score: every read that starts after a
// change returned must show it, and a caller changing its answer must not
// change anyone else's.
func TestPageReadsSeeEarlierWrites(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			fx := seedBoard(t, db)
			rdb, prefix := sharedRedis(t)
			p := policy.Default()
			reader := NewRedis(rdb, db, p, quiet(), WithPrefix(prefix))
			writer := NewRedis(rdb, db, p, quiet(), WithPrefix(prefix))
			ctx := context.Background()
			if err := reader.Rebuild(ctx, fx.cycle); err != nil {
				t.Fatal(err)
			}
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
						for _, it := range items {
							if it.Name == "changed by a caller" {
								t.Error("an answer was changed by another caller")
								return
							}
						}
					}
				}()
			}
			for i := range 200 {
				score := i % 111
				writer.ScoreChanged(ctx, m, fx.cycle, score, -1)
				items, _, err := reader.Top(ctx, fx.cycle, county, MaxLimit, 0)
				if err != nil {
					t.Fatal(err)
				}
				got := -1
				for j := range items {
					if items[j].Code == m.Code {
						got = items[j].Score
					}
					items[j].Name = "changed by a caller"
				}
				if got != score {
					t.Errorf("read %d after a change to %d: got %d", i, score, got)
					break
				}
			}
			close(stop)
			wg.Wait()
			servesFromRedis(t, reader, fx.cycle)
		})
	}
}
