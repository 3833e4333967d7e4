package leaderboard

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/policy"
)

func TestCompetitionRanks(t *testing.T) {
	tests := []struct {
		name          string
		scores        []int
		offset, first int
		want          []int
	}{
		{"first page", []int{100, 98, 98, 95}, 0, 1, []int{1, 2, 2, 4}},
		{"all equal", []int{90, 90, 90}, 0, 1, []int{1, 1, 1}},
		{"page inside a tie", []int{98, 95, 95}, 2, 2, []int{2, 4, 4}},
		{"page after a tie", []int{80, 80, 60}, 5, 4, []int{4, 4, 8}},
		{"empty", nil, 3, 1, []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := make([]Entry, len(tt.scores))
			for i, s := range tt.scores {
				items[i].Score = s
			}
			competitionRanks(items, tt.offset, tt.first)
			got := []int{}
			for _, e := range items {
				got = append(got, e.Rank)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoadCents(t *testing.T) {
	tests := []struct {
		total int64
		n     int
		want  int64
	}{
		{388, 4, 9700}, {275, 3, 9167}, {200, 3, 6667}, {1, 8, 13}, {0, 0, 0}, {110, 1, 11000}, {5, 200, 3},
	}
	for _, tt := range tests {
		if got := roadCents(tt.total, tt.n); got != tt.want {
			t.Errorf("roadCents(%d, %d) = %d, want %d", tt.total, tt.n, got, tt.want)
		}
	}
}

// TestSQLRanking pins the SQL answers on the fixture, so that the agreement
// tests compare Redis against something known to be right.
func TestSQLRanking(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			fx := seedBoard(t, db)
			ctx := context.Background()
			b := NewSQL(db, policy.Default())
			items, total, err := b.Top(ctx, fx.cycle, Scope{Kind: County, CountyID: fx.counties[0]}, 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range items {
				got = append(got, e.Code[:1]+":"+itoa(e.Score)+"#"+itoa(e.Rank))
			}
			want := []string{"A:100#1", "G:100#1", "B:98#3", "C:95#4", "E:95#4", "K:95#4", "F:80#7", "H:60#8"}
			if total != 8 || !reflect.DeepEqual(got, want) {
				t.Errorf("county ranking = %d %v, want 8 %v", total, got, want)
			}
			page, _, err := b.Top(ctx, fx.cycle, Scope{Kind: City}, 3, 4)
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, e := range page {
				got = append(got, e.Code[:1]+"#"+itoa(e.Rank))
			}
			if want := []string{"B#5", "C#6", "E#6"}; !reflect.DeepEqual(got, want) {
				t.Errorf("city page = %v, want %v", got, want)
			}
			closed := fx.merchants[4]
			if p, _ := b.Position(ctx, fx.cycle, Scope{Kind: County, CountyID: closed.CountyID}, closed); p != (Position{0, 8}) {
				t.Errorf("closed merchant position = %+v, want {0 8}", p)
			}
			if p, _ := b.Position(ctx, fx.cycle, Scope{Kind: Road, RoadID: fx.merchants[2].RoadID}, fx.merchants[2]); p != (Position{3, 4}) {
				t.Errorf("C on its road = %+v, want {3 4}", p)
			}
			roads, err := b.Roads(ctx, fx.cycle, fx.counties[0])
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, r := range roads {
				got = append(got, r.Name+":"+strings.TrimRight(strings.TrimRight(ftoa(r.Score), "0"), ".")+"/"+itoa(r.Merchants)+"#"+itoa(r.Rank))
			}
			if want := []string{"路0:97/4#1", "路1:91.67/3#2", "路3:60/1#3", "路2:0/0#4"}; !reflect.DeepEqual(got, want) {
				t.Errorf("roads = %v, want %v", got, want)
			}
			if _, _, err := b.Top(ctx, fx.cycle, Scope{Kind: "town"}, 10, 0); !errors.Is(err, ErrScope) {
				t.Errorf("unknown scope: err = %v, want ErrScope", err)
			}
		})
	}
}

func TestRedisAgreesWithSQL(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			fx := seedBoard(t, db)
			sql, r := newBoards(t, db, fx.cycle)
			servesFromRedis(t, r, fx.cycle)
			sameAnswers(t, db, sql, r, fx.cycle)
		})
	}
}

// TestScoreChangedKeepsAgreement changes the database as the service would
// and tells the board, which must then still agree with SQL: score changes,
// a first score row, closing, reopening, moving to another road.
func TestScoreChangedKeepsAgreement(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			fx := seedBoard(t, db)
			sql, r := newBoards(t, db, fx.cycle)
			scoreChangesAgree(t, db, fx, sql, r)
		})
	}
}

// scoreChangesAgree makes the changes of TestScoreChangedKeepsAgreement on
// the seeded fixture, checking after each that r agrees with sql, then
// rebuilds r over its live sets and checks again.
func scoreChangesAgree(t *testing.T, db *models.DB, fx fixture, sql Board, r *Redis) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL().Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	notify := func(m models.Merchant) {
		t.Helper()
		m, err := db.MerchantByID(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		score, err := db.LiveScore(ctx, m.ID, fx.cycle, 100)
		if err != nil {
			t.Fatal(err)
		}
		r.ScoreChanged(ctx, m, fx.cycle, score, -1)
	}
	ms := fx.merchants
	steps := []struct {
		name string
		do   func()
	}{
		{"score drops", func() {
			exec("UPDATE scores SET score = 70 WHERE merchant_id = ? AND cycle = ?", ms[1].ID, fx.cycle)
			notify(ms[1])
		}},
		{"first score row", func() { insertScore(t, db, ms[3].ID, fx.cycle, 88); notify(ms[3]) }},
		{"tie made", func() {
			exec("UPDATE scores SET score = 80 WHERE merchant_id = ? AND cycle = ?", ms[0].ID, fx.cycle)
			notify(ms[0])
		}},
		{"close", func() { exec("UPDATE merchants SET status = 'closed' WHERE id = ?", ms[8].ID); notify(ms[8]) }},
		{"reopen", func() { exec("UPDATE merchants SET status = 'active' WHERE id = ?", ms[4].ID); notify(ms[4]) }},
		{"move to the empty road", func() {
			exec("UPDATE merchants SET road_id = ? WHERE id = ?", fx.roads[2], ms[5].ID)
			notify(ms[5])
		}},
		{"same score again", func() { notify(ms[5]); notify(ms[5]) }},
	}
	for _, st := range steps {
		st.do()
		t.Run(st.name, func(t *testing.T) {
			servesFromRedis(t, r, fx.cycle)
			sameAnswers(t, db, sql, r, fx.cycle)
		})
	}
	// The rebuilt sets equal the incrementally kept ones.
	if err := r.Rebuild(ctx, fx.cycle); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, db, sql, r, fx.cycle)
}

// TestNotReadyAnswersFromSQL: before any rebuild Redis holds nothing, reads
// come from SQL and updates leave no partial sets behind.
func TestNotReadyAnswersFromSQL(t *testing.T) {
	db := dbtest.Open(t, models.SQLite)
	fx := seedBoard(t, db)
	rdb, prefix := sharedRedis(t)
	r := NewRedis(rdb, db, policy.Default(), quiet(), WithPrefix(prefix))
	r.ScoreChanged(context.Background(), fx.merchants[0], fx.cycle, 50, -1)
	keys, err := rdb.Keys(context.Background(), prefix+":*").Result()
	if err != nil || len(keys) != 0 {
		t.Fatalf("keys after an update of a cycle not built: %v %v", keys, err)
	}
	sameAnswers(t, db, NewSQL(db, policy.Default()), r, fx.cycle)
	select {
	case <-r.kick:
	default:
		t.Error("reads of a cycle not built did not ask for a rebuild")
	}
}

func TestRebuildLock(t *testing.T) {
	db := dbtest.Open(t, models.SQLite)
	fx := seedBoard(t, db)
	rdb, prefix := sharedRedis(t)
	r := NewRedis(rdb, db, policy.Default(), quiet(), WithPrefix(prefix))
	ctx := context.Background()
	lock := r.keys(fx.cycle).lock()
	if err := rdb.Set(ctx, lock, "someone-else", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(ctx, fx.cycle); !errors.Is(err, ErrRebuildBusy) {
		t.Fatalf("Rebuild with the lock taken: %v, want ErrRebuildBusy", err)
	}
	if v, _ := rdb.Get(ctx, lock).Result(); v != "someone-else" {
		t.Fatalf("another instance's lock was touched: %q", v)
	}
	rdb.Del(ctx, lock)
	if err := r.Rebuild(ctx, fx.cycle); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, lock).Result(); n != 0 {
		t.Error("lock left behind after the rebuild")
	}
	servesFromRedis(t, r, fx.cycle)
}

// TestInvalidatedRebuildIsNotReady: an invalidation while a rebuild runs (a
// failed write elsewhere) keeps the cycle off Redis when the rebuild ends.
func TestInvalidatedRebuildIsNotReady(t *testing.T) {
	db := dbtest.Open(t, models.SQLite)
	fx := seedBoard(t, db)
	rdb, prefix := sharedRedis(t)
	r := NewRedis(rdb, db, policy.Default(), quiet(), WithPrefix(prefix))
	ctx := context.Background()
	k := r.keys(fx.cycle)
	rdb.Set(ctx, k.lock(), "tok", 0)
	res, err := finishScript.Run(ctx, rdb, []string{k.ready(), k.lock(), k.epoch(), k.dirty()}, "tok", "", "1", 4102444800000).Int()
	if err != nil || res != 1 {
		t.Fatalf("finish without invalidation = %d %v, want 1", res, err)
	}
	rdb.Set(ctx, k.lock(), "tok", 0)
	if err := r.invalidate(ctx, fx.cycle); err != nil {
		t.Fatal(err)
	}
	res, err = finishScript.Run(ctx, rdb, []string{k.ready(), k.lock(), k.epoch(), k.dirty()}, "tok", "", "2", 4102444800000).Int()
	if err != nil || res != -1 {
		t.Fatalf("finish after invalidation = %d %v, want -1", res, err)
	}
	if n, _ := rdb.Exists(ctx, k.ready(), k.lock()).Result(); n != 0 {
		t.Errorf("ready or lock left: %d", n)
	}
}

// TestChangeSkippedDuringRebuild: a change that this instance did not write
// to Redis (a read had failed a moment before) after a rebuild had read the
// database is missing from that rebuild's sets, so the rebuild must leave
// this instance reading SQL until the next rebuild repairs the cycle.
func TestChangeSkippedDuringRebuild(t *testing.T) {
	db := dbtest.Open(t, models.SQLite)
	fx := seedBoard(t, db)
	rdb, prefix := sharedRedis(t)
	november := func() time.Time { return time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC) }
	p := policy.Default()
	r := NewRedis(rdb, db, p, quiet(), WithPrefix(prefix), WithClock(november))
	ctx := context.Background()
	m := fx.merchants[1]
	var swapping atomic.Bool
	rdb.AddHook(redisHook{pipeline: func(cmds []redis.Cmder) {
		// The rebuild renames its keys: it has read the database.
		if len(cmds) == 0 || cmds[0].Name() != "rename" || !swapping.CompareAndSwap(false, true) {
			return
		}
		if _, err := db.SQL().Exec("UPDATE scores SET score = 70 WHERE merchant_id = ? AND cycle = ?", m.ID, fx.cycle); err != nil {
			t.Error(err)
		}
		r.out.failed("test", time.Now(), errors.New("a read failed")) // a read just failed
		r.ScoreChanged(ctx, m, fx.cycle, 70, -1)
		r.out.answered(time.Now())
	}})
	if err := r.Rebuild(ctx, fx.cycle); err != nil {
		t.Fatal(err)
	}
	if ServedFromRedis(r, fx.cycle) {
		t.Error("the sets of a rebuild that missed a change are served")
	}
	sql := NewSQL(db, p)
	sameAnswers(t, db, sql, r, fx.cycle)
	r.reconcile(ctx)
	servesFromRedis(t, r, fx.cycle)
	sameAnswers(t, db, sql, r, fx.cycle)
}

func TestKeyLayout(t *testing.T) {
	k := keys{"lb", "2026-11"}
	got := []string{k.city(), k.ready(), k.county(7), k.road(7, 12), k.roads(7), k.roadOf(7)}
	want := []string{"lb:{city}:2026-11:city", "lb:{city}:2026-11:ready", "lb:{c:7}:2026-11:county",
		"lb:{c:7}:2026-11:road:12", "lb:{c:7}:2026-11:roads", "lb:{c:7}:2026-11:roadof"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
}
