package leaderboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/leaderboard/redistest"
	"github.com/menqian/menqian/service/policy"
)

// quiet is the logger of tests: Redis failures are expected in several of them.
func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sharedRedis connects to the test Redis and gives the test a unique key
// prefix, whose keys are removed afterwards; the server is shared, so the test
// must never flush it.
func sharedRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	rdb, err := Connect(dbtest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "lbtest" + hex.EncodeToString(b)
	t.Cleanup(func() {
		defer rdb.Close()
		ctx := context.Background()
		if cc, ok := rdb.(*redis.ClusterClient); ok { // SCAN reaches one node: scan every master
			cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { unlinkPrefix(ctx, m, prefix); return nil })
			return
		}
		unlinkPrefix(ctx, rdb, prefix)
	})
	return rdb, prefix
}

// unlinkPrefix removes the keys under prefix from one server, each key in a
// command of its own (on a cluster node, keys of several slots may not share one).
func unlinkPrefix(ctx context.Context, c redis.Cmdable, prefix string) {
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	pipe := c.Pipeline()
	for iter.Next(ctx) {
		if pipe.Unlink(ctx, iter.Val()); pipe.Len() == 1000 {
			pipe.Exec(ctx)
		}
	}
	pipe.Exec(ctx)
}

// redisServer is a redis-server of the test's own (see redistest).
type redisServer = redistest.Server

func startRedisServer(t testing.TB) *redisServer { return redistest.Start(t) }

// fixture is the seeded data of the agreement tests.
type fixture struct {
	cycle     string
	counties  []int64
	roads     []int64 // every road, the empty one included
	merchants []models.Merchant
}

// merchantSeed describes one seeded merchant; score < 0 means no score row.
type merchantSeed struct {
	code   string
	road   int // index into the roads
	score  int
	closed bool
}

// seedBoard stores two counties with roads covering the edge cases: ties
// (1, 2, 2, 4), an empty road, a road of one merchant, a road whose only
// merchant is closed, merchants without a score row (base 100), and rows of
// another cycle that must not count.
func seedBoard(t testing.TB, db *models.DB) fixture {
	t.Helper()
	ctx := context.Background()
	fx := fixture{cycle: "2026-11"}
	var roadCounty []int64
	for i, code := range []string{"370303", "370304"} {
		c := models.County{Code: code, Name: "县" + code, DemoRoadTarget: 10}
		if err := db.CreateCounty(ctx, &c); err != nil {
			t.Fatal(err)
		}
		fx.counties = append(fx.counties, c.ID)
		n := 4
		if i == 1 {
			n = 2
		}
		for j := range n {
			r := models.Road{CountyID: c.ID, Name: fmt.Sprintf("路%d", j), DemoStatus: "none"}
			if err := db.CreateRoad(ctx, &r); err != nil {
				t.Fatal(err)
			}
			fx.roads = append(fx.roads, r.ID)
			roadCounty = append(roadCounty, c.ID)
		}
	}
	registered := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC) // before the cycle: they take part in it
	// roads: 0..3 in county 0 (road 2 stays empty, road 3 has one merchant,
	// road 1 only a closed one besides ties), 4..5 in county 1.
	seeds := []merchantSeed{
		{"K0000001", 0, 95, false},
		{"B0000002", 0, 98, false},
		{"C0000003", 0, 95, false},
		{"A0000004", 0, -1, false}, // no row: 100
		{"D0000005", 0, 110, true}, // closed: never ranked
		{"E0000006", 1, 95, false},
		{"F0000007", 1, 80, false},
		{"G0000008", 1, -1, false},
		{"H0000009", 3, 60, false}, // alone on its road
		{"J0000010", 4, 100, false},
		{"L0000011", 4, -1, false},
		{"M0000012", 4, 0, false},
		{"N0000013", 5, 99, true}, // its road has no active merchant
	}
	for i, s := range seeds {
		status := "active"
		if s.closed {
			status = "closed"
		}
		m := models.Merchant{Code: s.code, CountyID: roadCounty[s.road], RoadID: fx.roads[s.road],
			Name: fmt.Sprintf("商户:%d", i), Status: status, QRGeneration: 1, CreatedAt: registered}
		if err := db.CreateMerchant(ctx, &m); err != nil {
			t.Fatal(err)
		}
		fx.merchants = append(fx.merchants, m)
		if s.score >= 0 {
			insertScore(t, db, m.ID, fx.cycle, s.score)
		}
		insertScore(t, db, m.ID, "2026-10", 7) // another cycle: ignored
	}
	return fx
}

func insertScore(t testing.TB, db *models.DB, merchantID int64, cycle string, score int) {
	t.Helper()
	_, err := db.SQL().Exec(`INSERT INTO scores (merchant_id, cycle, score, updated_at) VALUES (?, ?, ?, ?)`,
		merchantID, cycle, score, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
}

// scopesOf lists every ranking of the fixture, and a road that does not exist.
func (fx fixture) scopes() []Scope {
	out := []Scope{{Kind: City}}
	for _, c := range fx.counties {
		out = append(out, Scope{Kind: County, CountyID: c})
	}
	for _, r := range fx.roads {
		out = append(out, Scope{Kind: Road, RoadID: r})
	}
	return append(out, Scope{Kind: Road, RoadID: 999999})
}

// sameAnswers fails the test where the two boards answer differently.
func sameAnswers(t *testing.T, db *models.DB, want, got Board, cycle string) {
	t.Helper()
	ctx := context.Background()
	fx := loadFixture(t, db, cycle)
	pages := [][2]int{{100, 0}, {1, 0}, {2, 1}, {3, 2}, {2, 3}, {5, 4}, {10, 100}}
	for _, s := range fx.scopes() {
		for _, p := range pages {
			wi, wt, err1 := want.Top(ctx, cycle, s, p[0], p[1])
			gi, gt, err2 := got.Top(ctx, cycle, s, p[0], p[1])
			if err1 != nil || err2 != nil {
				t.Fatalf("Top(%+v, %v): %v / %v", s, p, err1, err2)
			}
			if wt != gt || !reflect.DeepEqual(norm(wi), norm(gi)) {
				t.Errorf("Top(%+v, limit %d offset %d):\nwant %d %+v\ngot  %d %+v", s, p[0], p[1], wt, wi, gt, gi)
			}
		}
	}
	for _, m := range fx.merchants {
		for _, s := range []Scope{{Kind: City}, {Kind: County, CountyID: m.CountyID}, {Kind: Road, RoadID: m.RoadID},
			{Kind: Road, RoadID: fx.roads[0]}} {
			wp, err1 := want.Position(ctx, cycle, s, m)
			gp, err2 := got.Position(ctx, cycle, s, m)
			if err1 != nil || err2 != nil {
				t.Fatalf("Position(%+v, %s): %v / %v", s, m.Code, err1, err2)
			}
			if wp != gp {
				t.Errorf("Position(%+v, %s): want %+v, got %+v", s, m.Code, wp, gp)
			}
		}
	}
	for _, c := range fx.counties {
		wr, err1 := want.Roads(ctx, cycle, c)
		gr, err2 := got.Roads(ctx, cycle, c)
		if err1 != nil || err2 != nil {
			t.Fatalf("Roads(%d): %v / %v", c, err1, err2)
		}
		if !reflect.DeepEqual(wr, gr) {
			t.Errorf("Roads(%d):\nwant %+v\ngot  %+v", c, wr, gr)
		}
	}
}

// norm makes an empty page and a nil page equal.
func norm(es []Entry) []Entry {
	if len(es) == 0 {
		return nil
	}
	return es
}

// loadFixture reads back what the database holds now.
func loadFixture(t *testing.T, db *models.DB, cycle string) fixture {
	t.Helper()
	ctx := context.Background()
	fx := fixture{cycle: cycle}
	cs, err := db.ListCounties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		fx.counties = append(fx.counties, c.ID)
	}
	rs, err := db.BoardRoads(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		fx.roads = append(fx.roads, r.ID)
	}
	ms, _, err := db.ListMerchants(ctx, models.MerchantFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	fx.merchants = ms
	return fx
}

// newBoards returns the SQL board and a Redis board on the shared test Redis,
// built for the cycle.
func newBoards(t *testing.T, db *models.DB, cycle string) (Board, *Redis) {
	t.Helper()
	rdb, prefix := sharedRedis(t)
	return buildBoards(t, db, cycle, rdb, prefix)
}

// buildBoards returns the SQL board and a Redis board over rdb with the key
// prefix, built for the cycle.
func buildBoards(t *testing.T, db *models.DB, cycle string, rdb redis.UniversalClient, prefix string) (Board, *Redis) {
	t.Helper()
	p := policy.Default()
	r := NewRedis(rdb, db, p, quiet(), WithPrefix(prefix))
	if err := r.Rebuild(context.Background(), cycle); err != nil {
		t.Fatal(err)
	}
	return NewSQL(db, p), r
}

// servesFromRedis fails the test unless reads of the cycle would use Redis.
func servesFromRedis(t *testing.T, r *Redis, cycle string) {
	t.Helper()
	n, err := r.rdb.Exists(context.Background(), r.keys(cycle).ready()).Result()
	if err != nil || n != 1 || !r.usable(cycle) {
		t.Fatalf("cycle %s is not served from Redis (ready %d, err %v, usable %v)", cycle, n, err, r.usable(cycle))
	}
}

func itoa(n int) string     { return strconv.Itoa(n) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// runBoard runs r.Run until the test ends.
func runBoard(t testing.TB, r *Redis, every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, every) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitServed waits until reads of the cycle use Redis again.
func waitServed(t testing.TB, r *Redis, cycle string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ServedFromRedis(r, cycle) {
			return
		}
	}
	t.Fatalf("cycle %s not served from Redis after %v", cycle, within)
}

// redisHook lets a test step in before each command or pipeline a client
// sends, between two writes of the board.
type redisHook struct {
	command  func(redis.Cmder)   // nil: none
	pipeline func([]redis.Cmder) // nil: none
}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.command != nil {
			h.command(cmd)
		}
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.pipeline != nil {
			h.pipeline(cmds)
		}
		return next(ctx, cmds)
	}
}
