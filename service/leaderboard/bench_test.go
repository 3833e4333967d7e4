package leaderboard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/policy"
)

// Benchmarks run on MariaDB only (MENQIAN_TEST_MYSQL_DSN), e.g.
//
//	go test -run '^$' -bench 'Rank|Top50|Roads' -benchtime 2s ./service/leaderboard/
//	MENQIAN_BENCH_LARGE=1 go test -run '^$' -bench 'Rebuild/1M' -benchtime 1x -timeout 30m ./service/leaderboard/

const benchCycle = "2026-11"

// seedMany stores counties × roads × merchants with multi-row INSERTs and
// explicit ids: merchant i is id i+1, on road i % roads of county i % counties;
// 3% are closed and a fifth have no score row (base score).
func seedMany(tb testing.TB, db *models.DB, counties, roadsPerCounty, merchants int) {
	tb.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		if _, err := db.SQL().ExecContext(ctx, q, args...); err != nil {
			tb.Fatal(err)
		}
	}
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for c := range counties {
		exec(`INSERT INTO counties (id, code, name, demo_road_target, created_at, updated_at) VALUES (?, ?, ?, 10, ?, ?)`,
			c+1, fmt.Sprintf("%06d", 370301+c), fmt.Sprintf("区%d", c), now, now)
		var rows []string
		var args []any
		for r := range roadsPerCounty {
			rows = append(rows, "(?, ?, ?, 'none', ?, ?)")
			args = append(args, c*roadsPerCounty+r+1, c+1, fmt.Sprintf("路%d", r), now, now)
		}
		exec(`INSERT INTO roads (id, county_id, name, demo_status, created_at, updated_at) VALUES `+strings.Join(rows, ","), args...)
	}
	const batch = 2000
	workers := 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for start := w * batch; start < merchants; start += workers * batch {
				end := min(start+batch, merchants)
				var ms, ss []string
				var margs, sargs []any
				for i := start; i < end; i++ {
					county := i % counties
					road := county*roadsPerCounty + (i/counties)%roadsPerCounty + 1
					status := "active"
					if rng.IntN(100) < 3 {
						status = "closed"
					}
					ms = append(ms, "(?, ?, ?, ?, ?, ?, ?, ?)")
					margs = append(margs, i+1, benchCode(i), county+1, road, fmt.Sprintf("商户%d", i), status, now, now)
					if rng.IntN(5) > 0 {
						ss = append(ss, "(?, ?, ?, ?)")
						sargs = append(sargs, i+1, benchCycle, 40+rng.IntN(71), now)
					}
				}
				_, err := db.SQL().ExecContext(ctx, `INSERT INTO merchants (id, code, county_id, road_id, name, status, created_at, updated_at) VALUES `+
					strings.Join(ms, ","), margs...)
				if err == nil && len(ss) > 0 {
					_, err = db.SQL().ExecContext(ctx, `INSERT INTO scores (merchant_id, cycle, score, updated_at) VALUES `+strings.Join(ss, ","), sargs...)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// benchCode is a distinct 8-character code per i (multiplying by an odd
// constant permutes 32-bit numbers), spread like random plaque codes.
func benchCode(i int) string { return fmt.Sprintf("%08X", uint32(i)*2654435761) }

// benchBoards seeds n merchants in one county on MariaDB and builds both boards.
func benchBoards(b *testing.B, n int) (*models.DB, Board, *Redis) {
	b.Helper()
	if os.Getenv(dbtest.EnvMySQL) == "" {
		b.Skip("benchmarks need MariaDB: set " + dbtest.EnvMySQL)
	}
	db := dbtest.Open(b, models.MySQL)
	seedMany(b, db, 1, 200, n)
	rdb, prefix := sharedRedis(b)
	p := policy.Default()
	r := NewRedis(rdb, db, p, quiet(), WithPrefix(prefix))
	if err := r.Rebuild(context.Background(), benchCycle); err != nil {
		b.Fatal(err)
	}
	return db, NewSQL(db, p), r
}

// sampleMerchants picks active merchants spread over the table.
func sampleMerchants(b *testing.B, db *models.DB, n int) []models.Merchant {
	ms, _, err := db.ListMerchants(context.Background(), models.MerchantFilter{Status: "active", Limit: 100000})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]models.Merchant, 0, n)
	for i := 0; i < len(ms) && len(out) < n; i += len(ms)/n + 1 {
		out = append(out, ms[i])
	}
	return out
}

// BenchmarkRank measures a merchant's county rank among 100,000.
func BenchmarkRank(b *testing.B) {
	db, sql, r := benchBoards(b, 100_000)
	sample := sampleMerchants(b, db, 500)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		board Board
	}{{"redis", r}, {"sql", sql}} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				m := sample[i%len(sample)]
				i++
				p, err := bc.board.Position(ctx, benchCycle, Scope{Kind: County, CountyID: m.CountyID}, m)
				if err != nil || p.Rank == 0 {
					b.Fatal(p, err)
				}
			}
		})
	}
}

// BenchmarkTop50 measures the first page of 50 of a county of 100,000, and a
// page deep inside it: through Redis when the page is unchanged since the
// last read (redis), when it changed (redis-changed: the held page is dropped
// before each read, so Redis reads the range), and through SQL.
func BenchmarkTop50(b *testing.B) {
	_, sql, r := benchBoards(b, 100_000)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		board Board
		drop  bool
	}{{"redis", r, false}, {"redis-changed", r, true}, {"sql", sql, false}} {
		for _, offset := range []int{0, 50_000} {
			b.Run(fmt.Sprintf("%s/offset=%d", bc.name, offset), func(b *testing.B) {
				for b.Loop() {
					if bc.drop {
						r.pages.mu.Lock()
						r.pages.held = nil // no sender runs between these sequential reads
						r.pages.mu.Unlock()
					}
					items, _, err := bc.board.Top(ctx, benchCycle, Scope{Kind: County, CountyID: 1}, 50, offset)
					if err != nil || len(items) != 50 {
						b.Fatal(len(items), err)
					}
				}
			})
		}
	}
}

// BenchmarkRoads measures the road ranking of a county of 200 roads and 100,000 merchants.
func BenchmarkRoads(b *testing.B) {
	_, sql, r := benchBoards(b, 100_000)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		board Board
	}{{"redis", r}, {"sql", sql}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if roads, err := bc.board.Roads(ctx, benchCycle, 1); err != nil || len(roads) != 200 {
					b.Fatal(len(roads), err)
				}
			}
		})
	}
}

// BenchmarkRebuild measures a full rebuild: 100,000 merchants always (with
// MariaDB), 1,000,000 in 10 counties of 100 roads with MENQIAN_BENCH_LARGE=1,
// on a redis-server of its own.
func BenchmarkRebuild(b *testing.B) {
	if os.Getenv(dbtest.EnvMySQL) == "" {
		b.Skip("benchmarks need MariaDB: set " + dbtest.EnvMySQL)
	}
	sizes := []struct {
		name                   string
		counties, roads, count int
	}{{"100k", 1, 200, 100_000}}
	if os.Getenv("MENQIAN_BENCH_LARGE") == "1" {
		sizes = append(sizes, struct {
			name                   string
			counties, roads, count int
		}{"1M", 10, 100, 1_000_000})
	}
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			db := dbtest.Open(b, models.MySQL)
			started := time.Now()
			seedMany(b, db, sz.counties, sz.roads, sz.count)
			b.Logf("seeded %d merchants in %v", sz.count, time.Since(started).Round(time.Millisecond))
			srv := startRedisServer(b)
			opt, err := redis.ParseURL(srv.URL())
			if err != nil {
				b.Fatal(err)
			}
			rdb := redis.NewClient(opt)
			defer rdb.Close()
			r := NewRedis(rdb, db, policy.Default(), quiet())
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if err := r.Rebuild(ctx, benchCycle); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			n, _ := rdb.ZCard(ctx, r.keys(benchCycle).city()).Result()
			b.ReportMetric(float64(n), "merchants")
		})
	}
}
