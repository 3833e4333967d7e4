package leaderboard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// TestRedisRestartDuringInspections records a stream of inspections through
// the service while the Redis of the test is killed and started again empty:
// every inspection is kept, reads keep answering, and afterwards every
// ranking equals SQL and is served from Redis again.
func TestRedisRestartDuringInspections(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			srv := leaderboard.StartRedisServer(t)
			run := startInspectionRun(t, srv.URL(), d)
			db, board, sql, cycle, ins := run.db, run.board, run.sql, run.cycle, run.ins
			record := ins.record

			record(80)
			leaderboard.ServesFromRedis(t, board, cycle)
			leaderboard.SameAnswers(t, db, sql, board, cycle)

			srv.Stop()
			record(80) // Redis is gone: inspections and reads still succeed
			leaderboard.SameAnswers(t, db, sql, board, cycle)

			srv.Start() // the same port, empty
			record(80)
			leaderboard.WaitServed(t, board, cycle, 20*time.Second)
			leaderboard.SameAnswers(t, db, sql, board, cycle)

			ins.ledgerHoldsAll(db)
		})
	}
}

// inspectionRun is a service recording inspections with a Redis board,
// kept by Run, and the SQL board to compare it with.
type inspectionRun struct {
	db    *models.DB
	board *leaderboard.Redis
	sql   leaderboard.Board
	cycle string
	ins   *inspections
}

// startInspectionRun seeds a fresh database of the dialect and builds the
// board over the Redis at url for the current cycle.
func startInspectionRun(t *testing.T, url string, d models.Dialect) inspectionRun {
	t.Helper()
	rdb, err := leaderboard.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	db := dbtest.Open(t, d)
	p := policy.Default()
	officer, merchants, photos := seedService(t, db)
	board := leaderboard.NewRedis(rdb, db, p, leaderboard.Quiet())
	svc := service.New(service.Options{DB: db, Policy: p, Secret: []byte("test secret"), Logger: leaderboard.Quiet(), Board: board})
	cycle := p.CycleOf(time.Now()).String()
	if err := board.Rebuild(context.Background(), cycle); err != nil {
		t.Fatal(err)
	}
	leaderboard.RunBoard(t, board, 100*time.Millisecond)
	return inspectionRun{db: db, board: board, sql: leaderboard.NewSQL(db, p), cycle: cycle,
		ins: newInspections(t, svc, officer, merchants, photos, board, cycle, d)}
}

// inspections records random inspections through the service, reading the
// city ranking after each, and counts the items recorded.
type inspections struct {
	t         *testing.T
	svc       *service.Service
	officer   service.Actor
	merchants []models.Merchant
	photos    []int64 // the evidence photo of each merchant
	board     leaderboard.Board
	cycle     string
	workers   int

	mu         sync.Mutex
	items, seq int
}

func newInspections(t *testing.T, svc *service.Service, officer service.Actor, merchants []models.Merchant, photos []int64,
	board leaderboard.Board, cycle string, d models.Dialect) *inspections {
	workers := 4
	if d == models.SQLite {
		// Concurrent RecordInspection calls on SQLite fail with
		// SQLITE_BUSY even without a board (a models/service issue),
		// so SQLite records one inspection at a time.
		workers = 1
	}
	return &inspections{t: t, svc: svc, officer: officer, merchants: merchants, photos: photos, board: board, cycle: cycle, workers: workers}
}

// record records n inspections, each with its own idempotency key, and fails
// the test where one or a read after it fails.
func (ins *inspections) record(n int) {
	t := ins.t
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range ins.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(n)))
			for range n / ins.workers {
				ins.mu.Lock()
				ins.seq++
				key := fmt.Sprintf("k-%d", ins.seq)
				ins.mu.Unlock()
				i := rng.IntN(len(ins.merchants))
				in := service.InspectionInput{MerchantID: ins.merchants[i].ID}
				switch rng.IntN(3) {
				case 0:
					in.Items = []service.InspectionItem{{RuleCode: "BONUS-01"}}
				case 1:
					in.Items = []service.InspectionItem{{RuleCode: "HJWS-01"}}
					in.Photos = []int64{ins.photos[i]}
				default:
					in.Items = []service.InspectionItem{{RuleCode: "SRZJ-01"}, {RuleCode: "BONUS-03"}}
					in.Photos = []int64{ins.photos[i]}
				}
				if _, _, err := ins.svc.RecordInspection(ctx, ins.officer, key, in); err != nil {
					t.Errorf("inspection %s: %v", key, err)
					return
				}
				ins.mu.Lock()
				ins.items += len(in.Items)
				ins.mu.Unlock()
				if _, _, err := ins.board.Top(ctx, ins.cycle, leaderboard.Scope{Kind: leaderboard.City}, 10, 0); err != nil {
					t.Errorf("read: %v", err)
				}
			}
		}()
	}
	wg.Wait()
}

// recorded is the count of items recorded so far.
func (ins *inspections) recorded() int {
	ins.mu.Lock()
	defer ins.mu.Unlock()
	return ins.items
}

// ledgerHoldsAll fails the test unless the ledger holds every item recorded,
// once.
func (ins *inspections) ledgerHoldsAll(db *models.DB) {
	ins.t.Helper()
	var ledger int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM ledger_entries").Scan(&ledger); err != nil {
		ins.t.Fatal(err)
	}
	if items := ins.recorded(); ledger != items {
		ins.t.Errorf("ledger has %d entries, %d items were recorded", ledger, items)
	}
}

// seedService stores a county with three roads and 40 merchants, an officer
// and an evidence photo for each merchant (a photo is evidence of one shop).
func seedService(t *testing.T, db *models.DB) (service.Actor, []models.Merchant, []int64) {
	t.Helper()
	ctx := context.Background()
	c := models.County{Code: "370303", Name: "张店区", DemoRoadTarget: 10}
	if err := db.CreateCounty(ctx, &c); err != nil {
		t.Fatal(err)
	}
	var roads []models.Road
	for i := range 3 {
		r := models.Road{CountyID: c.ID, Name: fmt.Sprintf("路%d", i), DemoStatus: "none"}
		if err := db.CreateRoad(ctx, &r); err != nil {
			t.Fatal(err)
		}
		roads = append(roads, r)
	}
	var ms []models.Merchant
	for i := range 40 {
		m := models.Merchant{Code: fmt.Sprintf("T%07d", i), CountyID: c.ID, RoadID: roads[i%3].ID,
			Name: fmt.Sprintf("商户%d", i), Status: "active", QRGeneration: 1}
		if err := db.CreateMerchant(ctx, &m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	u := models.User{Username: "officer", PasswordHash: "x", Role: service.RoleOfficer, CountyID: &c.ID}
	if err := db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	photos := make([]int64, len(ms))
	for i := range ms {
		ph := models.Photo{SHA256: fmt.Sprintf("%064x", i+1), ContentType: "image/jpeg", SizeBytes: 100, CountyID: c.ID, UploadedBy: &u.ID}
		if err := db.CreatePhoto(ctx, &ph); err != nil {
			t.Fatal(err)
		}
		photos[i] = ph.ID
	}
	return service.Actor{UserID: u.ID, Username: u.Username, Role: service.RoleOfficer, CountyID: c.ID}, ms, photos
}
