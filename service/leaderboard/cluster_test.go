package leaderboard

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/leaderboard/redistest"
	"github.com/menqian/menqian/service/ratelimit/ratelimittest"
)

// TestRedisClusterAgreesWithSQL runs the board on a three-master Redis
// Cluster: two counties whose keys sit on different masters (and the city's
// and the rate limits' on their own slots), built by a rebuild, kept through
// score changes, closing, reopening and a move between roads (cityScript and
// countyScript), read through the page and position scripts, rebuilt again
// over the live sets (the renames), every answer equal to SQL's; and the
// rate-limit script.
func TestRedisClusterAgreesWithSQL(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 0)
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			rdb, err := Connect(cl.URL())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Close() })
			cc, ok := rdb.(*redis.ClusterClient)
			if !ok {
				t.Fatalf("Connect(%s) gave a %T, want a cluster client", cl.URL(), rdb)
			}
			db := dbtest.Open(t, d)
			fx := seedBoard(t, db)
			sql, r := buildBoards(t, db, fx.cycle, rdb, "lb"+string(d))

			ctx := context.Background()
			k := r.keys(fx.cycle)
			masters := map[string]bool{}
			slots := map[int64]string{}
			for _, key := range []string{k.city(), k.county(fx.counties[0]), k.county(fx.counties[1]), r.prefix + ":{rl}:x:y"} {
				slot, err := cc.ClusterKeySlot(ctx, key).Result()
				if err != nil {
					t.Fatal(err)
				}
				if other, dup := slots[slot]; dup {
					t.Errorf("%s and %s share slot %d; the test wants them apart", key, other, slot)
				}
				slots[slot] = key
				m, err := cc.MasterForKey(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				masters[m.Options().Addr] = true
			}
			if len(masters) < 2 {
				t.Errorf("the city, both counties and the rate limits sit on %d master(s), want them spread", len(masters))
			}
			if n, err := cc.Exists(ctx, k.county(fx.counties[0]), k.county(fx.counties[1])).Result(); err == nil {
				t.Errorf("EXISTS over two counties' keys answered %d; a cluster must refuse a command across slots", n)
			}

			servesFromRedis(t, r, fx.cycle)
			sameAnswers(t, db, sql, r, fx.cycle)
			scoreChangesAgree(t, db, fx, sql, r)
			servesFromRedis(t, r, fx.cycle)
			ratelimittest.Run(t, r.Limiter())
		})
	}
}
