package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	mrand "math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
)

// Tests of the county views (countyview.go): the cached, incrementally
// refreshed views against a full recomputation after a random mix of what
// users do, what one instance's write shows on another instance's reads, and
// the change log the views are refreshed from.

// viewService builds a service as cmd does, with the test clock and board
// (nil: SQL only) and caches of its own.
func viewService(db *models.DB, clock *dbtest.Clock, photoDir string, board leaderboard.Board) *Service {
	return New(Options{DB: db, Policy: policy.Default(), Secret: []byte("test-secret-0123456789"), Photos: photostore.NewLocal(photoDir),
		PublicURL: "http://mq.test", Clock: clock.Now, Logger: quietLog(), Board: board, PasswordCost: bcrypt.MinCost})
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// localTime is a wall-clock time in the policy's zone (Asia/Shanghai), in UTC.
func localTime(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, policy.Default().Location()).UTC()
}

// viewSeeds returns the seeds of the property test: 1..2 (each runs every
// kind of operation; the suite stays fast), or 1..n with
// MENQIAN_TEST_VIEW_SEEDS=n (to search further), or just n with =-n (to
// repeat one).
func viewSeeds(t *testing.T) []int64 {
	n := int64(2)
	if v := os.Getenv("MENQIAN_TEST_VIEW_SEEDS"); v != "" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil || n == 0 {
			t.Fatalf("MENQIAN_TEST_VIEW_SEEDS=%q: want a number of seeds, or -seed", v)
		}
		if n < 0 {
			return []int64{-n}
		}
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i) + 1
	}
	return out
}

// viewSteps is how many random operations one seed runs.
const viewSteps = 60

// TestCountyViewMatchesRecomputation is the property test of the county
// views: after every one of a seeded random mix of what officers, county
// admins and merchants do through the service (inspections, reversals,
// appeals, notices, closures, road moves, renames, demonstration moves, new
// shops), while the clock crosses a cycle boundary and the previous cycle is
// closed after its grace period, the cached view of each open cycle equals a
// full recomputation from the database, and so do the rankings read from it.
// Most refreshes must be incremental, or the test would not cover them.
func TestCountyViewMatchesRecomputation(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			for _, seed := range viewSeeds(t) {
				t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
					t.Parallel()
					t.Logf("seed %d (repeat with MENQIAN_TEST_VIEW_SEEDS=-%d)", seed, seed)
					newViewWorld(t, d, seed, nil).run(viewSteps)
				})
			}
			// The current cycle's merchant pages come from Redis then.
			t.Run("redis", func(t *testing.T) {
				t.Parallel()
				seed := viewSeeds(t)[0]
				t.Logf("seed %d, with Redis", seed)
				newViewWorld(t, d, seed, redisBoard(t)).run(viewSteps)
			})
		})
	}
}

// viewWorld is a county of 40 shops on four roads (the first one patrolled
// in full and a demonstration candidate) and a second county of five shops
// (for the city rankings), run by one service on a test clock.
type viewWorld struct {
	t     *testing.T
	ctx   context.Context
	s     *Service
	db    *models.DB
	clock *dbtest.Clock
	rng   *mrand.Rand
	seed  int64

	admin, county, officer Actor // the city admin; home's county admin and officer
	home, other            int64
	roads                  []int64 // home's
	otherRoad              int64
	shops, otherShops      []int64         // whatever their status
	photos                 map[int64]int64 // the officer's evidence photo of each shop
	deductions, bonuses    []string
	shopActors             map[int64]Actor
	shopPhotos             map[int64]int64
	appealed               map[int64]bool        // ledger entries appealed
	pending                []models.Appeal       // appeals not decided
	notices                []models.Notice       // notices not confirmed fixed
	lastPrev               map[int64]*countyView // the previous cycle's views at the last check in its grace period
	closed                 bool
	seq                    int
}

// newViewWorld builds the world of seed with the board that board makes
// (nil: SQL only).
func newViewWorld(t *testing.T, d models.Dialect, seed int64, board func(*models.DB, *dbtest.Clock) leaderboard.Board) *viewWorld {
	t.Helper()
	db := dbtest.Open(t, d)
	clock := dbtest.NewClock(localTime(2026, time.October, 20, 10))
	var b leaderboard.Board
	if board != nil {
		b = board(db, clock)
	}
	w := &viewWorld{t: t, ctx: context.Background(), s: viewService(db, clock, t.TempDir(), b), db: db, clock: clock,
		rng: mrand.New(mrand.NewSource(seed)), seed: seed, admin: Actor{UserID: 1, Username: "admin", Role: RoleCityAdmin},
		shopActors: map[int64]Actor{}, shopPhotos: map[int64]int64{}, photos: map[int64]int64{}, appealed: map[int64]bool{}, lastPrev: map[int64]*countyView{}}
	_, _, err := w.s.Bootstrap(w.ctx, "admin-password-1")
	w.must(err, "Bootstrap")
	for _, it := range w.s.policy.Items {
		switch {
		case it.Kind == policy.Bonus:
			w.bonuses = append(w.bonuses, it.Code)
		case !it.Serious:
			w.deductions = append(w.deductions, it.Code)
		}
	}
	county := func(code, name string) int64 {
		c, err := w.s.CreateCounty(w.ctx, w.admin, CountyInput{Code: &code, Name: &name})
		w.must(err, "CreateCounty")
		return c.ID
	}
	w.home, w.other = county("370303", "张店区"), county("370302", "淄川区")
	w.county = w.user(UserInput{Username: "county", Password: "county-password-1", Role: RoleCountyAdmin, CountyID: &w.home})
	w.officer = w.user(UserInput{Username: "officer", Password: "officer-password-1", Role: RoleOfficer, CountyID: &w.home})
	road := func(county int64, name string) int64 {
		r, err := w.s.CreateRoad(w.ctx, w.admin, RoadInput{CountyID: &county, Name: &name})
		w.must(err, "CreateRoad")
		return r.ID
	}
	for _, name := range []string{"柳泉路", "共青团路", "华光路", "人民路"} {
		w.roads = append(w.roads, road(w.home, name))
	}
	w.otherRoad = road(w.other, "松龄路")
	for i := range 40 {
		r := w.roads[0]
		if i >= 14 {
			r = w.roads[1+w.rng.Intn(3)]
		}
		w.shops = append(w.shops, w.newShop(r))
	}
	for range 5 {
		name := fmt.Sprintf("淄川店%d", w.next())
		m, err := w.s.CreateMerchant(w.ctx, w.admin, MerchantInput{RoadID: &w.otherRoad, Name: &name})
		w.must(err, "CreateMerchant")
		w.otherShops = append(w.otherShops, m.ID)
	}

	// October: a few deductions, two of them serious (which cap those shops'
	// stars through December).
	for i := range 8 {
		code := w.deductions[w.rng.Intn(len(w.deductions))]
		if i < 2 {
			code = "ZXLH-05"
		}
		w.record(w.officer, pickAny(w.rng, w.shops), nil, item(code, w.points(code)))
	}
	// 24 November: October was closed (by the background job); the first
	// road is patrolled in full and becomes a candidate.
	w.clock.Set(localTime(2026, time.November, 24, 10))
	_, err = w.s.CloseDueCycles(w.ctx)
	w.must(err, "CloseDueCycles")
	w.patrol(w.roads[0])
	_, err = w.s.SetDemonstration(w.ctx, w.county, w.roads[0], DemoCandidate, "")
	w.must(err, "SetDemonstration")
	if board != nil {
		w.must(w.s.RebuildLeaderboards(w.ctx), "RebuildLeaderboards")
	}
	return w
}

func (w *viewWorld) must(err error, what string) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("seed %d: %s: %v", w.seed, what, err)
	}
}

func (w *viewWorld) next() int { w.seq++; return w.seq }

func (w *viewWorld) user(in UserInput) Actor {
	w.t.Helper()
	u, err := w.s.CreateUser(w.ctx, w.admin, in)
	w.must(err, "CreateUser "+in.Username)
	return actorOf(u)
}

func pickAny[T any](rng *mrand.Rand, from []T) T { return from[rng.Intn(len(from))] }

// points is a random number of points within the item's range.
func (w *viewWorld) points(code string) int {
	it, _ := w.s.policy.Item(code)
	return it.MinPoints + w.rng.Intn(it.MaxPoints-it.MinPoints+1)
}

func (w *viewWorld) newShop(road int64) int64 {
	name := fmt.Sprintf("店铺%d", w.next())
	m, err := w.s.CreateMerchant(w.ctx, w.county, MerchantInput{RoadID: &road, Name: &name})
	w.must(err, "CreateMerchant")
	return m.ID
}

// record records an inspection of shop by a at (nil: now), with the officer's
// photo of the shop when it deducts.
func (w *viewWorld) record(a Actor, shop int64, at *time.Time, items ...InspectionItem) {
	w.t.Helper()
	in := InspectionInput{MerchantID: shop, InspectedAt: at, Items: items}
	for _, it := range items {
		if rule, _ := w.s.policy.Item(it.RuleCode); rule.Kind == policy.Deduction {
			in.Photos = []int64{w.evidence(shop)}
		}
	}
	_, _, err := w.s.RecordInspection(w.ctx, a, fmt.Sprintf("key-%d", w.next()), in)
	w.must(err, fmt.Sprintf("RecordInspection of shop %d %+v", shop, items))
}

// evidence returns the officer's evidence photo of shop (uploaded when first
// needed: a photo is evidence of one shop only).
func (w *viewWorld) evidence(shop int64) int64 {
	if p, ok := w.photos[shop]; ok {
		return p
	}
	p, err := w.s.UploadPhoto(w.ctx, w.officer, auditPNG(1))
	w.must(err, "UploadPhoto")
	w.photos[shop] = p.ID
	return p.ID
}

// merchant returns the shop's own account (made when first needed) and a
// photo of its own.
func (w *viewWorld) merchant(shop int64) (Actor, int64) {
	if a, ok := w.shopActors[shop]; ok {
		return a, w.shopPhotos[shop]
	}
	a := w.user(UserInput{Username: fmt.Sprintf("shop%d", shop), Password: "shop-password-1", Role: RoleMerchant, MerchantID: &shop})
	p, err := w.s.UploadPhoto(w.ctx, a, auditPNG(uint8(2+len(w.shopActors))))
	w.must(err, "UploadPhoto (merchant)")
	w.shopActors[shop], w.shopPhotos[shop] = a, p.ID
	return a, p.ID
}

// shopsWhere returns the shops among ids that keep accepts, by id.
func (w *viewWorld) shopsWhere(ids []int64, keep func(models.ViewMerchant) bool) []models.ViewMerchant {
	w.t.Helper()
	ms, err := w.db.ViewMerchantsByIDs(w.ctx, ids)
	w.must(err, "ViewMerchantsByIDs")
	ms = slices.DeleteFunc(ms, func(m models.ViewMerchant) bool { return !keep(m) })
	slices.SortFunc(ms, func(a, b models.ViewMerchant) int { return int(a.ID - b.ID) })
	return ms
}

func shopActive(m models.ViewMerchant) bool { return m.Status == models.MerchantActive }

// patrol inspects every active shop of the road, each with a small bonus.
func (w *viewWorld) patrol(road int64) int {
	ms := w.shopsWhere(w.shops, func(m models.ViewMerchant) bool { return shopActive(m) && m.RoadID == road })
	for _, m := range ms {
		w.record(w.officer, m.ID, nil, item("BONUS-03", 1))
	}
	return len(ms)
}

// openEntries returns the shop's ledger entries of open cycles that are not
// reversals and not reversed.
func (w *viewWorld) openEntries(shop int64) []models.LedgerEntry {
	es, err := w.db.LedgerOf(w.ctx, shop, "")
	w.must(err, "LedgerOf")
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	rev, err := w.db.ReversedIDs(w.ctx, ids)
	w.must(err, "ReversedIDs")
	return slices.DeleteFunc(es, func(e models.LedgerEntry) bool {
		c, _ := policy.ParseCycle(e.Cycle)
		_, reversed := rev[e.ID]
		return e.Kind == models.KindReversal || reversed || w.s.policy.IsClosed(c, w.clock.Now())
	})
}

// viewOp is one kind of random operation: do returns what it did, or ""
// when there was nothing to do it to.
type viewOp struct {
	name   string
	weight int
	do     func(w *viewWorld) string
}

// ops lists the random operations with their weights.
func (w *viewWorld) ops() []viewOp {
	return []viewOp{
		{"inspect", 30, (*viewWorld).opInspect},
		{"inspect the other county", 3, (*viewWorld).opInspectOther},
		{"patrol", 2, (*viewWorld).opPatrol},
		{"reverse", 8, (*viewWorld).opReverse},
		{"file appeal", 7, (*viewWorld).opFileAppeal},
		{"decide appeal", 7, (*viewWorld).opDecideAppeal},
		{"issue notice", 6, (*viewWorld).opIssueNotice},
		{"report fixed", 3, (*viewWorld).opReportFixed},
		{"confirm fixed", 5, (*viewWorld).opRectify},
		{"close shop", 3, (*viewWorld).opCloseShop},
		{"reopen shop", 3, (*viewWorld).opReopenShop},
		{"move shop", 4, (*viewWorld).opMoveShop},
		{"rename shop", 2, (*viewWorld).opRenameShop},
		{"new shop", 3, (*viewWorld).opNewShop},
		{"rename road", 2, (*viewWorld).opRenameRoad},
		{"demonstration", 3, (*viewWorld).opDemonstration},
		{"county target", 1, (*viewWorld).opCountyTarget},
		{"prune", 1, (*viewWorld).opPrune},
	}
}

// plan is the order of a run's operations: each kind once, the other steps
// drawn by weight, shuffled.
func (w *viewWorld) plan(ops []viewOp, steps int) []int {
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	plan := make([]int, 0, max(steps, len(ops)))
	for i := range ops {
		plan = append(plan, i)
	}
	for len(plan) < steps {
		n := w.rng.Intn(total)
		for i, op := range ops {
			if n -= op.weight; n < 0 {
				plan = append(plan, i)
				break
			}
		}
	}
	w.rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	return plan
}

// run checks the views once, then runs steps random operations, each a few
// hours after the last (about 12 days from 24 November: the previous cycle
// is in its grace period from 1 December and closed on 4 December), and
// checks after each. An operation with nothing to do it to (no appeal to
// decide yet) trades places with a later one.
func (w *viewWorld) run(steps int) {
	start := w.clock.Now()
	w.check("before any operation")
	builds, refreshes := w.s.views.builds.Load(), w.s.views.refreshes.Load()
	ops := w.ops()
	plan := w.plan(ops, steps)
	done := make([]int, len(ops))
	crossed := false
	for k := range steps {
		// Every step is 5 hours on, give or take 5 hours: the clock never goes back.
		jitter := time.Duration(w.rng.Int63n(int64(5*time.Hour/time.Millisecond))) * time.Millisecond
		w.clock.Set(start.Add(time.Duration(k+1)*5*time.Hour + jitter))
		crossed = crossed || w.s.policy.CycleOf(w.clock.Now()) != w.s.policy.CycleOf(start)
		what := w.closeDue()
		for try := 0; ; try++ {
			if did := ops[plan[k]].do(w); did != "" {
				what += did
				done[plan[k]]++
				break
			}
			if j := k + 1 + w.rng.Intn(max(len(plan)-k-1, 1)); try < 10 && j < len(plan) {
				plan[k], plan[j] = plan[j], plan[k]
			} else {
				plan[k] = 0 // inspect: always something to do it to
			}
		}
		w.check(fmt.Sprintf("step %d at %s: %s", k+1, w.clock.Now().In(w.s.policy.Location()).Format("01-02 15:04"), what))
	}
	builds, refreshes = w.s.views.builds.Load()-builds, w.s.views.refreshes.Load()-refreshes
	var counts []string
	for i, op := range ops {
		counts = append(counts, fmt.Sprintf("%s %d", op.name, done[i]))
		if done[i] == 0 {
			w.t.Errorf("seed %d: the run did not %s", w.seed, op.name)
		}
	}
	w.t.Logf("seed %d: %d steps (%s): %d views built, %d refreshed", w.seed, steps, strings.Join(counts, ", "), builds, refreshes)
	if !crossed || !w.closed {
		w.t.Errorf("seed %d: the run did not cross a cycle boundary (%v) or close the previous cycle (%v)", w.seed, crossed, w.closed)
	}
	if refreshes < int64(steps)/2 || refreshes <= builds {
		w.t.Errorf("seed %d: %d views built and %d refreshed in %d steps: the incremental refresh is not what is tested", w.seed, builds, refreshes, steps)
	}
}

// closeDue closes the previous cycle once its grace period is over (the
// background job), and checks that its frozen results are the view read at
// the end of its grace period: nothing was written since.
func (w *viewWorld) closeDue() string {
	now := w.clock.Now()
	prev := w.s.policy.CycleOf(now).Prev()
	if seen := w.lastPrev[w.home]; seen == nil || seen.cycle != prev || w.closed || !w.s.policy.IsClosed(prev, now) {
		return "" // not a cycle seen in its grace period, or not closed yet
	}
	closed, err := w.s.CloseDueCycles(w.ctx)
	w.must(err, "CloseDueCycles")
	if !slices.Contains(closed, prev.String()) {
		w.t.Fatalf("seed %d: CloseDueCycles closed %v, not %s", w.seed, closed, prev)
	}
	w.closed = true
	for _, id := range []int64{w.home, w.other} {
		last := w.lastPrev[id]
		if last == nil {
			w.t.Fatalf("seed %d: no view of %s was read in its grace period", w.seed, prev)
		}
		county, err := w.db.CountyByID(w.ctx, id)
		w.must(err, "CountyByID")
		cc, err := w.s.frozenCountyCycle(w.ctx, county, prev)
		w.must(err, "frozenCountyCycle")
		if diff := diffLines("shops", cc.Merchants, last.merchants) + diffLines("roads", cc.Roads, last.roadViews); diff != "" {
			w.t.Fatalf("seed %d: county %d: %s as closed differs from its last view in the grace period:\n%s", w.seed, id, prev, diff)
		}
	}
	page, err := w.s.MerchantBoard(w.ctx, w.admin, BoardQuery{Scope: leaderboard.County, ID: w.home, Cycle: prev.String(), Paging: Paging{Limit: MaxPage}})
	w.must(err, "MerchantBoard of the closed cycle")
	if diff := diffLines("closed cycle's board", page.Items, refPage(w.lastPrev[w.home].merchants, MaxPage, 0)); diff != "" {
		w.t.Fatalf("seed %d: %s", w.seed, diff)
	}
	return "close " + prev.String() + "; "
}

func (w *viewWorld) opInspect() string {
	now := w.clock.Now()
	prev := w.s.policy.CycleOf(now).Prev()
	prevEnd := w.s.policy.CycleStart(prev.Next())
	grace := !w.s.policy.IsClosed(prev, now)
	m := pickAny(w.rng, w.shopsWhere(w.shops, shopActive))
	var at *time.Time
	late := ""
	if grace && m.CreatedAt.Before(prevEnd.Add(-6*time.Hour)) && w.rng.Intn(3) == 0 {
		// Recorded late, in the grace period, for the previous cycle.
		t := prevEnd.Add(-time.Duration(1+w.rng.Intn(5)) * time.Hour)
		at, late = &t, " for "+prev.String()
	}
	var items []InspectionItem
	var codes []string
	for n := 1 + w.rng.Intn(2); len(items) < n; {
		var code string
		switch r := w.rng.Intn(10); {
		case r == 0:
			code = "ZXLH-05"
		case r < 6:
			code = pickAny(w.rng, w.deductions)
		default:
			code = pickAny(w.rng, w.bonuses)
		}
		if !slices.Contains(codes, code) {
			codes = append(codes, code)
			items = append(items, item(code, w.points(code)))
		}
	}
	w.record(w.officer, m.ID, at, items...)
	return fmt.Sprintf("inspect shop %d%s: %v", m.ID, late, codes)
}

func (w *viewWorld) opInspectOther() string {
	m := pickAny(w.rng, w.shopsWhere(w.otherShops, shopActive))
	code := pickAny(w.rng, w.bonuses)
	w.record(w.admin, m.ID, nil, item(code, w.points(code)))
	return fmt.Sprintf("inspect shop %d of the other county: %s", m.ID, code)
}

func (w *viewWorld) opPatrol() string {
	r := pickAny(w.rng, w.roads)
	return fmt.Sprintf("patrol road %d (%d shops)", r, w.patrol(r))
}

func (w *viewWorld) opReverse() string {
	for range 5 {
		shop := pickAny(w.rng, w.shops)
		es := slices.DeleteFunc(w.openEntries(shop), func(e models.LedgerEntry) bool {
			return slices.ContainsFunc(w.pending, func(ap models.Appeal) bool { return ap.EntryID == e.ID })
		})
		if len(es) == 0 {
			continue
		}
		e := pickAny(w.rng, es)
		_, _, err := w.s.ReverseEntry(w.ctx, w.county, shop, e.ID, "复核后撤销")
		w.must(err, "ReverseEntry")
		return fmt.Sprintf("reverse entry %d (%s %+d, %s) of shop %d", e.ID, e.RuleCode, e.Points, e.Cycle, shop)
	}
	return ""
}

// opFileAppeal appeals a deduction still open to appeal, recorded first
// when a few shops have none.
func (w *viewWorld) opFileAppeal() string {
	now := w.clock.Now()
	appealable := func(shop int64) []models.LedgerEntry {
		return slices.DeleteFunc(w.openEntries(shop), func(e models.LedgerEntry) bool {
			return e.Kind != models.KindDeduction || w.appealed[e.ID] || now.Sub(e.CreatedAt) > AppealWindow
		})
	}
	what, shop := "", int64(0)
	var es []models.LedgerEntry
	for try := 0; len(es) == 0; try++ {
		if try < 5 {
			shop = pickAny(w.rng, w.shops)
		} else {
			shop = pickAny(w.rng, w.shopsWhere(w.shops, shopActive)).ID
			code := pickAny(w.rng, w.deductions)
			w.record(w.officer, shop, nil, item(code, w.points(code)))
			what = fmt.Sprintf("inspect shop %d: %s; ", shop, code)
		}
		es = appealable(shop)
	}
	e := pickAny(w.rng, es)
	a, _ := w.merchant(shop)
	ap, err := w.s.FileAppeal(w.ctx, a, shop, e.ID, "当时已经清理干净")
	w.must(err, "FileAppeal")
	w.appealed[e.ID] = true
	w.pending = append(w.pending, ap)
	return what + fmt.Sprintf("appeal %d against entry %d (%s) of shop %d", ap.ID, e.ID, e.RuleCode, shop)
}

// opDecideAppeal decides a pending appeal, filed first when there is none.
func (w *viewWorld) opDecideAppeal() string {
	what := ""
	if len(w.pending) == 0 {
		what = w.opFileAppeal() + "; "
	}
	i := w.rng.Intn(len(w.pending))
	ap := w.pending[i]
	w.pending = slices.Delete(w.pending, i, i+1)
	c, _ := policy.ParseCycle(ap.Cycle)
	accept := w.rng.Intn(2) == 0 && !w.s.policy.IsClosed(c, w.clock.Now())
	note := ""
	if !accept {
		note = "照片显示确有问题"
	}
	_, err := w.s.DecideAppeal(w.ctx, w.county, ap.ID, accept, note)
	w.must(err, "DecideAppeal")
	return what + fmt.Sprintf("decide appeal %d of shop %d: accepted %v", ap.ID, ap.MerchantID, accept)
}

func (w *viewWorld) opIssueNotice() string {
	m := pickAny(w.rng, w.shopsWhere(w.shops, shopActive))
	days := 1 + w.rng.Intn(3)
	n, err := w.s.IssueNotice(w.ctx, w.officer, m.ID, NoticeInput{RuleCode: pickAny(w.rng, w.deductions), DueDays: &days})
	w.must(err, "IssueNotice")
	w.notices = append(w.notices, n.Notice)
	return fmt.Sprintf("notice %d to shop %d, due in %d days", n.ID, m.ID, days)
}

func (w *viewWorld) opReportFixed() string {
	what := ""
	if len(w.notices) == 0 {
		what = w.opIssueNotice() + "; "
	}
	n := pickAny(w.rng, w.notices)
	a, photo := w.merchant(n.MerchantID)
	_, err := w.s.ReportNoticeFixed(w.ctx, a, n.ID, "已整改", []int64{photo})
	w.must(err, "ReportNoticeFixed")
	return what + fmt.Sprintf("shop %d reports notice %d fixed", n.MerchantID, n.ID)
}

func (w *viewWorld) opRectify() string {
	if len(w.notices) == 0 {
		return ""
	}
	i := w.rng.Intn(len(w.notices))
	n := w.notices[i]
	w.notices = slices.Delete(w.notices, i, i+1)
	_, err := w.s.RectifyNotice(w.ctx, w.officer, n.ID, "复查已整改")
	w.must(err, "RectifyNotice")
	return fmt.Sprintf("notice %d of shop %d confirmed fixed", n.ID, n.MerchantID)
}

func (w *viewWorld) setStatus(status string, when func(models.ViewMerchant) bool) string {
	ms := w.shopsWhere(w.shops, when)
	if len(ms) == 0 || (status == "closed" && len(ms) <= 20) {
		return ""
	}
	m := pickAny(w.rng, ms)
	_, err := w.s.UpdateMerchant(w.ctx, w.county, m.ID, MerchantInput{Status: &status})
	w.must(err, "UpdateMerchant (status)")
	return fmt.Sprintf("shop %d %s", m.ID, status)
}

func (w *viewWorld) opCloseShop() string { return w.setStatus("closed", shopActive) }

func (w *viewWorld) opReopenShop() string {
	return w.setStatus(models.MerchantActive, func(m models.ViewMerchant) bool { return !shopActive(m) })
}

func (w *viewWorld) opMoveShop() string {
	m := pickAny(w.rng, w.shopsWhere(w.shops, func(models.ViewMerchant) bool { return true }))
	to := pickAny(w.rng, slices.DeleteFunc(slices.Clone(w.roads), func(r int64) bool { return r == m.RoadID }))
	_, err := w.s.UpdateMerchant(w.ctx, w.county, m.ID, MerchantInput{RoadID: &to})
	w.must(err, "UpdateMerchant (road)")
	return fmt.Sprintf("shop %d (%s) moved from road %d to %d", m.ID, m.Status, m.RoadID, to)
}

func (w *viewWorld) opRenameShop() string {
	shop := pickAny(w.rng, w.shops)
	name := fmt.Sprintf("改名店%d", w.next())
	_, err := w.s.UpdateMerchant(w.ctx, w.county, shop, MerchantInput{Name: &name})
	w.must(err, "UpdateMerchant (name)")
	return fmt.Sprintf("shop %d renamed", shop)
}

func (w *viewWorld) opNewShop() string {
	road := pickAny(w.rng, w.roads)
	id := w.newShop(road)
	w.shops = append(w.shops, id)
	return fmt.Sprintf("new shop %d on road %d", id, road)
}

func (w *viewWorld) opRenameRoad() string {
	road := pickAny(w.rng, w.roads)
	name := fmt.Sprintf("新路%d", w.next())
	_, err := w.s.UpdateRoad(w.ctx, w.county, road, RoadInput{Name: &name})
	w.must(err, "UpdateRoad")
	return fmt.Sprintf("road %d renamed", road)
}

func (w *viewWorld) opDemonstration() string {
	road := pickAny(w.rng, w.roads)
	r, err := w.db.RoadByID(w.ctx, road)
	w.must(err, "RoadByID")
	to := pickAny(w.rng, demoMoves[r.DemoStatus])
	note := ""
	if to == DemoRevoked {
		note = "复查不达标"
	}
	_, err = w.s.SetDemonstration(w.ctx, w.county, road, to, note)
	w.must(err, "SetDemonstration")
	return fmt.Sprintf("road %d: %s → %s", road, r.DemoStatus, to)
}

func (w *viewWorld) opCountyTarget() string {
	target := 1 + w.rng.Intn(20)
	_, err := w.s.UpdateCounty(w.ctx, w.admin, w.home, CountyInput{DemoRoadTarget: &target})
	w.must(err, "UpdateCounty")
	return fmt.Sprintf("county target %d", target)
}

// opPrune inspects a shop, then trims the change log to its last change
// (the serving instances' job, with a much longer log): the views, behind
// the log now, are rebuilt.
func (w *viewWorld) opPrune() string {
	what := w.opInspect()
	n, err := w.db.PruneCountyChanges(w.ctx, 1)
	w.must(err, "PruneCountyChanges")
	return fmt.Sprintf("%s; change log pruned (%d changes)", what, n)
}

// check compares, for each open cycle (the current one and the previous one
// in its grace period) and each county, the cached view with a full
// recomputation, then the rankings read from the views with the same
// computed from the recomputation.
func (w *viewWorld) check(where string) {
	w.t.Helper()
	now := w.clock.Now()
	cur := w.s.policy.CycleOf(now)
	cycles := []policy.Cycle{cur}
	if prev := cur.Prev(); !w.s.policy.IsClosed(prev, now) {
		cycles = append(cycles, prev)
	}
	for _, c := range cycles {
		want := map[int64][]models.MerchantResult{}
		var roads []RoadResultView
		for _, id := range []int64{w.home, w.other} {
			cv, ms, rs, diff := viewMismatch(w.t, w.s, id, c)
			if diff != "" {
				w.t.Fatalf("seed %d, %s:\ncounty %d, cycle %s: the view (version %d) differs from a recomputation:\n%s",
					w.seed, where, id, c, cv.version, diff)
			}
			want[id] = ms
			if id == w.home {
				roads = rs
			}
			if c != cur {
				w.lastPrev[id] = cv
			}
		}
		if diff := w.diffRankings(c, c == cur, want, roads); diff != "" {
			w.t.Fatalf("seed %d, %s:\ncycle %s: the rankings differ from those of a recomputation:\n%s", w.seed, where, c, diff)
		}
	}
}

// viewMismatch reads s's view of the county's cycle c and recomputes the
// same from the database: it returns the view, the recomputed shops and
// roads, and how the view differs from them and from what they sum up to
// ("": in no way).
func viewMismatch(t *testing.T, s *Service, countyID int64, c policy.Cycle) (*countyView, []models.MerchantResult, []RoadResultView, string) {
	t.Helper()
	ctx := context.Background()
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	cv, err := s.countyView(ctx, countyID, c)
	must(err, "countyView")
	county, err := s.db.CountyByID(ctx, countyID)
	must(err, "CountyByID")
	ms, rs, err := s.computeCountyCycle(ctx, county, c)
	must(err, "computeCountyCycle")
	diff := diffLines("shops", cv.merchants, ms) + diffLines("roads", cv.roadViews, rs)
	if !reflect.DeepEqual(cv.county, county) {
		diff += fmt.Sprintf("county %+v, want %+v\n", cv.county, county)
	}
	roads, err := s.db.BoardRoads(ctx, county.ID)
	must(err, "BoardRoads")
	diff += diffLines("road rows", cv.roads, roads)
	overdue, err := s.overdueNotices(ctx, county.ID, c, s.now())
	must(err, "overdueNotices")
	if len(cv.overdue)+len(overdue) > 0 && !reflect.DeepEqual(cv.overdue, overdue) {
		diff += fmt.Sprintf("overdue notices %v, want %v\n", cv.overdue, overdue)
	}
	var stale time.Time
	if end := s.policy.CycleStart(c.Next()); s.now().Before(end) {
		stale, err = s.db.NextNoticeDue(ctx, county.ID, s.now(), end)
		must(err, "NextNoticeDue")
	}
	if !cv.staleAfter.Equal(stale) {
		diff += fmt.Sprintf("stale after %v, want %v\n", cv.staleAfter, stale)
	}
	first, err := s.db.FirstRegistration(ctx, county.ID)
	must(err, "FirstRegistration")
	if !cv.firstRegistration.Equal(first) {
		diff += fmt.Sprintf("first registration %v, want %v\n", cv.firstRegistration, first)
	}
	sum, inspected, watch := 0, 0, 0
	stars := make([]int, len(s.policy.StarThresholds)+1)
	for i, m := range ms {
		sum += m.Score
		if m.Inspected {
			inspected++
		}
		if s.policy.UnderWatch(m.Score) {
			watch++
		}
		stars[m.RatedStar]++
		if at, ok := cv.at[m.MerchantID]; !ok || at != i {
			diff += fmt.Sprintf("shop %d at %d (%v), want %d\n", m.MerchantID, at, ok, i)
		}
	}
	if len(cv.at) != len(ms) || cv.sum != sum || cv.inspected != inspected || cv.underWatch != watch || !slices.Equal(cv.stars, stars) {
		diff += fmt.Sprintf("%d positions, sum %d, inspected %d, under watch %d, stars %v; want %d, %d, %d, %d, %v\n",
			len(cv.at), cv.sum, cv.inspected, cv.underWatch, cv.stars, len(ms), sum, inspected, watch, stars)
	}
	return cv, ms, rs, diff
}

// diffRankings compares the merchant pages (county, road and city scopes, in
// full and one random page each), the road ranking and (current cycle) a few
// shops' ranks with the same computed from the recomputed shops ms and roads
// of home.
func (w *viewWorld) diffRankings(c policy.Cycle, current bool, ms map[int64][]models.MerchantResult, roads []RoadResultView) string {
	cycle := ""
	if !current {
		cycle = c.String()
	}
	city := slices.Concat(ms[w.home], ms[w.other])
	slices.SortFunc(city, rankOrder)
	road := pickAny(w.rng, w.roads)
	onRoad := slices.DeleteFunc(slices.Clone(ms[w.home]), func(m models.MerchantResult) bool { return m.RoadID != road })
	var diff string
	for _, sc := range []struct {
		scope string
		id    int64
		want  []models.MerchantResult
	}{{leaderboard.County, w.home, ms[w.home]}, {leaderboard.Road, road, onRoad}, {leaderboard.City, 0, city}} {
		for _, p := range []Paging{{Limit: MaxPage}, {Limit: pickAny(w.rng, []int{1, 3, 7, 20}), Offset: w.rng.Intn(len(sc.want) + 3)}} {
			page, err := w.s.MerchantBoard(w.ctx, w.admin, BoardQuery{Scope: sc.scope, ID: sc.id, Cycle: cycle, Paging: p})
			w.must(err, "MerchantBoard")
			what := fmt.Sprintf("%s %d page %+v", sc.scope, sc.id, p)
			diff += diffLines(what, page.Items, refPage(sc.want, p.Limit, p.Offset))
			if page.Total != len(sc.want) || page.Cycle != c.String() {
				diff += fmt.Sprintf("%s: total %d of %s, want %d of %s\n", what, page.Total, page.Cycle, len(sc.want), c)
			}
		}
	}
	board, err := w.s.RoadBoard(w.ctx, w.admin, w.home, cycle)
	w.must(err, "RoadBoard")
	wantBoard := make([]leaderboard.RoadEntry, len(roads))
	for i, r := range roads {
		wantBoard[i] = leaderboard.RoadEntry{Rank: r.Rank, RoadID: r.RoadID, Name: r.Name, Score: float64(r.ScoreCents) / 100,
			Merchants: r.Merchants, DemoStatus: r.DemoStatus}
	}
	diff += diffLines("road board", board, wantBoard)
	if !current {
		return diff
	}
	for _, shop := range []int64{pickAny(w.rng, w.shops), pickAny(w.rng, w.shops), pickAny(w.rng, w.shops), pickAny(w.rng, w.otherShops)} {
		got, err := w.s.MerchantRanks(w.ctx, w.admin, shop)
		w.must(err, "MerchantRanks")
		m, err := w.db.MerchantByID(w.ctx, shop)
		w.must(err, "MerchantByID")
		want := MerchantRank{Cycle: c.String(), Score: got.Score, RoadID: m.RoadID, CountyID: m.CountyID,
			Road:   refPosition(ms[m.CountyID], shop, func(r models.MerchantResult) bool { return r.RoadID == m.RoadID }),
			County: refPosition(ms[m.CountyID], shop, func(models.MerchantResult) bool { return true }),
			City:   refPosition(city, shop, func(models.MerchantResult) bool { return true })}
		if i := slices.IndexFunc(city, func(r models.MerchantResult) bool { return r.MerchantID == shop }); i >= 0 {
			want.Score = city[i].Score
		}
		if got != want {
			diff += fmt.Sprintf("ranks of shop %d (%s): %+v, want %+v\n", shop, m.Status, got, want)
		}
	}
	return diff
}

// refPage is a page of ranking ms (in ranking order), with competition ranks.
func refPage(ms []models.MerchantResult, limit, offset int) []RankedMerchant {
	out := []RankedMerchant{}
	for i := offset; i < min(len(ms), offset+limit); i++ {
		m := ms[i]
		rank := 1
		for _, o := range ms {
			if o.Score > m.Score {
				rank++
			}
		}
		out = append(out, RankedMerchant{Entry: leaderboard.Entry{Rank: rank, MerchantID: m.MerchantID, Code: m.Code, Name: m.Name,
			Score: m.Score}, RatedStar: m.RatedStar})
	}
	return out
}

// refPosition is where shop stands among the shops of ms that in keeps
// (Rank 0: not among them).
func refPosition(ms []models.MerchantResult, shop int64, in func(models.MerchantResult) bool) leaderboard.Position {
	var p leaderboard.Position
	i := slices.IndexFunc(ms, func(m models.MerchantResult) bool { return m.MerchantID == shop })
	for _, m := range ms {
		if in(m) {
			p.Of++
		}
	}
	if i < 0 || !in(ms[i]) {
		return p
	}
	p.Rank = 1
	for _, m := range ms {
		if in(m) && m.Score > ms[i].Score {
			p.Rank++
		}
	}
	return p
}

// diffLines describes how got differs from want, line by line (at most ten
// lines); "" when they are equal (nil and empty alike).
func diffLines[T any](what string, got, want []T) string {
	if len(got) == 0 && len(want) == 0 || reflect.DeepEqual(got, want) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d lines, want %d\n", what, len(got), len(want))
	shown := 0
	for i := 0; i < max(len(got), len(want)) && shown < 10; i++ {
		var g, w any = "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "  [%d] got  %+v\n       want %+v\n", i, g, w)
			shown++
		}
	}
	return b.String()
}

// TestCountyViewSeenByAnotherInstance: two instances (their own database
// handles and caches) on one database, with SQL rankings and with one Redis:
// every cached read on B shows a write made on A, and a notice falling due
// without any write, at once, with the numbers a new instance reads.
func TestCountyViewSeenByAnotherInstance(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		for _, redis := range []bool{false, true} {
			name := string(d) + "/sql"
			if redis {
				name = string(d) + "/redis"
			}
			t.Run(name, func(t *testing.T) { testSeenByAnother(t, d, redis) })
		}
	}
}

// redisBoard returns a maker of Redis boards that share one fresh key
// prefix of the test Redis (removed after the test), skipping the test when
// there is no Redis.
func redisBoard(t *testing.T) func(*models.DB, *dbtest.Clock) leaderboard.Board {
	t.Helper()
	rdb, err := leaderboard.Connect(dbtest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	prefix := "test-views-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return func(db *models.DB, clock *dbtest.Clock) leaderboard.Board {
		return leaderboard.NewRedis(rdb, db, policy.Default(), quietLog(), leaderboard.WithPrefix(prefix), leaderboard.WithClock(clock.Now))
	}
}

// sharedDB opens two handles on one fresh migrated database.
func sharedDB(t *testing.T, d models.Dialect) (*models.DB, *models.DB) {
	t.Helper()
	cfg := models.Config{SQLitePath: filepath.Join(t.TempDir(), "menqian.db")}
	if d == models.MySQL {
		cfg = models.Config{MySQLDSN: dbtest.MySQLDSN(t)}
	}
	open := func() *models.DB {
		db, err := models.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a := open()
	if _, err := a.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, open()
}

// instanceReads is every cached read of a county's current cycle.
type instanceReads struct {
	Demonstration DemonstrationView
	CountyBoard   []CountyRank
	Dashboard     CountyDashboard
	Bulletin      Bulletin
	CountyPage    []RankedMerchant
	RoadPage      []RankedMerchant
	CityPage      []RankedMerchant
	Totals        [3]int // of the county, road and city pages
	Ranks         []MerchantRank
	Roads         []leaderboard.RoadEntry
}

func testSeenByAnother(t *testing.T, d models.Dialect, withRedis bool) {
	ctx := context.Background()
	dbA, dbB := sharedDB(t, d)
	clock := dbtest.NewClock(localTime(2026, time.November, 10, 10))
	board := func(*models.DB) leaderboard.Board { return nil }
	if withRedis {
		redis := redisBoard(t)
		board = func(db *models.DB) leaderboard.Board { return redis(db, clock) }
	}
	photos := t.TempDir()
	a := viewService(dbA, clock, photos, board(dbA))
	b := viewService(dbB, clock, photos, board(dbB))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// County X: road R1 with ten shops, a demonstration candidate that
	// qualifies, and road R2 with three; county Y: two shops. Every shop of X
	// had a bonus of 1, 2 or 3 points: R1 scores 101, 102, 103, 101, …, 101
	// (101.90 on average), R2 102, 103, 101 (102.00); Y's shops score 100.
	_, _, err := a.Bootstrap(ctx, "admin-password-1")
	must(err)
	admin := Actor{UserID: 1, Username: "admin", Role: RoleCityAdmin}
	x, err := a.CreateCounty(ctx, admin, CountyInput{Code: ptrTo("370303"), Name: ptrTo("张店区")})
	must(err)
	y, err := a.CreateCounty(ctx, admin, CountyInput{Code: ptrTo("370302"), Name: ptrTo("淄川区")})
	must(err)
	u, err := a.CreateUser(ctx, admin, UserInput{Username: "county", Password: "county-password-1", Role: RoleCountyAdmin, CountyID: &x.ID})
	must(err)
	countyAdmin := actorOf(u)
	u, err = a.CreateUser(ctx, admin, UserInput{Username: "officer", Password: "officer-password-1", Role: RoleOfficer, CountyID: &x.ID})
	must(err)
	officer := actorOf(u)
	road := func(county int64, name string) int64 {
		r, err := a.CreateRoad(ctx, admin, RoadInput{CountyID: &county, Name: &name})
		must(err)
		return r.ID
	}
	r1, r2, r3 := road(x.ID, "柳泉路"), road(x.ID, "华光路"), road(y.ID, "松龄路")
	var shops []int64
	for i := range 15 {
		r := r1
		switch {
		case i >= 13:
			r = r3
		case i >= 10:
			r = r2
		}
		m, err := a.CreateMerchant(ctx, admin, MerchantInput{RoadID: &r, Name: ptrTo(fmt.Sprintf("店%d", i))})
		must(err)
		shops = append(shops, m.ID)
		if i < 13 {
			_, _, err = a.RecordInspection(ctx, officer, fmt.Sprintf("bonus-%d", i),
				InspectionInput{MerchantID: m.ID, Items: []InspectionItem{item("BONUS-01", 1+i%3)}})
			must(err)
		}
	}
	_, err = a.SetDemonstration(ctx, countyAdmin, r1, DemoCandidate, "")
	must(err)
	photo, err := a.UploadPhoto(ctx, officer, auditPNG(1))
	must(err)
	if withRedis {
		must(a.RebuildLeaderboards(ctx))
	}
	s0, s1, s2 := shops[0], shops[1], shops[2] // on R1, scoring 101, 102 and 103

	cycle := a.CurrentCycle()
	read := func(s *Service) instanceReads {
		t.Helper()
		var r instanceReads
		var err error
		r.Demonstration, err = s.Demonstration(ctx, admin, x.ID)
		must(err)
		r.CountyBoard, err = s.CountyBoard(ctx, admin)
		must(err)
		r.Dashboard, err = s.CountyDashboard(ctx, admin, x.ID)
		must(err)
		r.Bulletin, err = s.CountyBulletin(ctx, admin, x.ID, cycle)
		must(err)
		pages := []*[]RankedMerchant{&r.CountyPage, &r.RoadPage, &r.CityPage}
		for i, q := range []BoardQuery{{Scope: leaderboard.County, ID: x.ID}, {Scope: leaderboard.Road, ID: r1}, {Scope: leaderboard.City}} {
			q.Limit = MaxPage
			p, err := s.MerchantBoard(ctx, admin, q)
			must(err)
			*pages[i], r.Totals[i] = p.Items, p.Total
		}
		for _, id := range []int64{s0, s1} {
			rk, err := s.MerchantRanks(ctx, admin, id)
			must(err)
			r.Ranks = append(r.Ranks, rk)
		}
		r.Roads, err = s.RoadBoard(ctx, admin, x.ID, "")
		must(err)
		return r
	}
	// seen reads B and checks it reads what an instance started now reads.
	seen := func(what string) instanceReads {
		t.Helper()
		got, want := read(b), read(viewService(dbB, clock, photos, board(dbB)))
		if diff := diffReads(got, want); diff != "" {
			t.Fatalf("%s: instance B differs from a new instance:\n%s", what, diff)
		}
		return got
	}
	expect := func(what string, ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: "+format, append([]any{what}, args...)...)
		}
	}
	roadOf := func(rs []RoadResultView, id int64) RoadResultView {
		for _, r := range rs {
			if r.RoadID == id {
				return r
			}
		}
		return RoadResultView{}
	}
	rankOf := func(rows []CountyRank, id int64) CountyRank {
		for _, r := range rows {
			if r.County.ID == id {
				return r
			}
		}
		return CountyRank{}
	}
	pos := func(rank, of int) leaderboard.Position { return leaderboard.Position{Rank: rank, Of: of} }

	before := seen("before any change")
	what := "before any change"
	expect(what, before.Demonstration.Designated == 1 && before.Demonstration.Qualified == 1, "demonstration %+v, want R1 qualified", before.Demonstration)
	expect(what, rankOf(before.CountyBoard, x.ID).Score == 101.92 && rankOf(before.CountyBoard, x.ID).Qualified == 1,
		"county board %+v", before.CountyBoard)
	expect(what, before.Totals == [3]int{13, 10, 15}, "totals %v, want 13, 10, 15", before.Totals)
	expect(what, before.Ranks[0].Score == 101 && before.Ranks[0].Road == pos(7, 10) && before.Ranks[0].County == pos(9, 13) &&
		before.Ranks[0].City == pos(9, 15), "ranks of the first shop %+v", before.Ranks[0])
	expect(what, len(before.Roads) == 2 && before.Roads[0].RoadID == r2 && before.Roads[1].Score == 101.9, "roads %+v", before.Roads)

	// An inspection on A: ZXLH-05, 10 points and serious, to the first shop.
	_, _, err = a.RecordInspection(ctx, officer, "serious", InspectionInput{MerchantID: s0,
		Items: []InspectionItem{item("ZXLH-05", 10)}, Photos: []int64{photo.ID}})
	must(err)
	got := seen("after an inspection on A")
	what = "after a serious deduction on A"
	last := got.CountyPage[len(got.CountyPage)-1]
	expect(what, last.MerchantID == s0 && last.Score == 91 && last.Rank == 13 && last.RatedStar == 2,
		"last of the county page %+v, want shop %d: 91 points, rank 13, 2★ (capped)", last, s0)
	expect(what, got.Ranks[0].Score == 91 && got.Ranks[0].Road == pos(10, 10) && got.Ranks[0].County == pos(13, 13) &&
		got.Ranks[0].City == pos(15, 15), "ranks %+v", got.Ranks[0])
	expect(what, len(got.Roads) == 2 && got.Roads[1].RoadID == r1 && got.Roads[1].Score == 100.9, "roads %+v, want R1 at 100.90", got.Roads)
	demo := roadOf(got.Demonstration.Roads, r1)
	expect(what, got.Demonstration.Qualified == 0 && demo.Metrics.SeriousItems == 1 && slices.Equal(demo.Failing, []string{FailSerious}),
		"demonstration %+v", got.Demonstration)
	expect(what, rankOf(got.CountyBoard, x.ID).Qualified == 0 && rankOf(got.CountyBoard, x.ID).Score == 101.15,
		"county board %+v", got.CountyBoard)
	expect(what, got.Dashboard.AverageScore == 101.15 && got.Dashboard.Stars[2] == 1 && got.Dashboard.Stars[5] == 12 &&
		got.Dashboard.Demonstration.Qualified == 0, "dashboard %+v", got.Dashboard)
	expect(what, len(got.Bulletin.Black) == 1 && got.Bulletin.Black[0].MerchantID == s0 &&
		slices.Equal(got.Bulletin.Black[0].Reasons, []string{ReasonSerious, ReasonBottom}), "black list %+v", got.Bulletin.Black)

	// Its reversal on A: every read is as before.
	es, err := dbA.LedgerOf(ctx, s0, cycle)
	must(err)
	_, _, err = a.ReverseEntry(ctx, countyAdmin, s0, es[len(es)-1].ID, "误录")
	must(err)
	if diff := diffReads(seen("after a reversal on A"), before); diff != "" {
		t.Errorf("after the deduction was reversed on A, B reads otherwise than before it:\n%s", diff)
	}

	// A shop closed on A, then reopened.
	closed := "closed"
	_, err = a.UpdateMerchant(ctx, countyAdmin, s1, MerchantInput{Status: &closed})
	must(err)
	got = seen("after a closure on A")
	what = "after the second shop closed on A"
	expect(what, got.Totals == [3]int{12, 9, 14}, "totals %v, want 12, 9, 14", got.Totals)
	expect(what, got.Ranks[1].Score == 102 && got.Ranks[1].Road == pos(0, 9) && got.Ranks[1].County == pos(0, 12) &&
		got.Ranks[1].City == pos(0, 14), "ranks of the closed shop %+v", got.Ranks[1])
	demo = roadOf(got.Demonstration.Roads, r1)
	expect(what, got.Demonstration.Qualified == 0 && demo.Merchants == 9 && slices.Equal(demo.Failing, []string{FailMerchants}),
		"demonstration %+v", got.Demonstration)
	expect(what, got.Roads[1].RoadID == r1 && got.Roads[1].Merchants == 9 && got.Roads[1].Score == 101.89,
		"roads %+v, want R1 at 101.89 with 9 shops", got.Roads)
	expect(what, got.Dashboard.Merchants == 12 && rankOf(got.CountyBoard, x.ID).Merchants == 12 && got.Bulletin.Merchants == 12,
		"dashboard %d, county board %d, bulletin %d shops, want 12", got.Dashboard.Merchants, rankOf(got.CountyBoard, x.ID).Merchants, got.Bulletin.Merchants)
	reopen := models.MerchantActive
	_, err = a.UpdateMerchant(ctx, countyAdmin, s1, MerchantInput{Status: &reopen})
	must(err)
	if diff := diffReads(seen("after a reopening on A"), before); diff != "" {
		t.Errorf("after the shop reopened on A, B reads otherwise than before it closed:\n%s", diff)
	}

	// R2 made a demonstration candidate on A, then not.
	_, err = a.SetDemonstration(ctx, countyAdmin, r2, DemoCandidate, "申报")
	must(err)
	got = seen("after a demonstration change on A")
	what = "after R2 became a candidate on A"
	expect(what, got.Demonstration.Designated == 2 && roadOf(got.Demonstration.Roads, r2).DemoStatus == DemoCandidate &&
		got.Dashboard.Demonstration.Designated == 2 && got.Bulletin.Demonstration.Designated == 2,
		"designated %d (dashboard %d, bulletin %d), want 2", got.Demonstration.Designated, got.Dashboard.Demonstration.Designated,
		got.Bulletin.Demonstration.Designated)
	expect(what, got.Roads[0].RoadID == r2 && got.Roads[0].DemoStatus == DemoCandidate, "roads %+v", got.Roads)
	_, err = a.SetDemonstration(ctx, countyAdmin, r2, DemoNone, "")
	must(err)
	if diff := diffReads(seen("after a second demonstration change on A"), before); diff != "" {
		t.Errorf("after R2 was no longer a candidate, B reads otherwise than before:\n%s", diff)
	}

	// A notice to the third shop due in a day, issued on A; then the clock
	// passes its deadline, with no write anywhere.
	day := 1
	_, err = a.IssueNotice(ctx, officer, s2, NoticeInput{RuleCode: "HJWS-01", DueDays: &day})
	must(err)
	got = seen("after a notice on A")
	expect("after a notice was issued on A", got.Dashboard.OpenNotices == 1 && got.Dashboard.OverdueNotices == 0 &&
		reflect.DeepEqual(got.Demonstration, before.Demonstration), "open %d, overdue %d notices, demonstration %+v",
		got.Dashboard.OpenNotices, got.Dashboard.OverdueNotices, got.Demonstration)
	clock.Set(clock.Now().Add(24*time.Hour + time.Minute))
	got = seen("after the notice fell due")
	what = "after the notice fell due"
	demo = roadOf(got.Demonstration.Roads, r1)
	expect(what, got.Demonstration.Qualified == 0 && demo.Metrics.OverdueNotices == 1 && slices.Equal(demo.Failing, []string{FailOverdue}),
		"demonstration %+v", got.Demonstration)
	expect(what, got.Dashboard.OverdueNotices == 1 && got.Dashboard.Demonstration.Qualified == 0 && rankOf(got.CountyBoard, x.ID).Qualified == 0,
		"dashboard overdue %d, qualified %d; county board %+v", got.Dashboard.OverdueNotices, got.Dashboard.Demonstration.Qualified, got.CountyBoard)
	for _, r := range got.Bulletin.Roads {
		expect(what, r.RoadID != r1 || !r.Qualified && slices.Equal(r.Failing, []string{FailOverdue}), "bulletin road %+v", r)
	}
}

// diffReads names the reads that differ, with both values.
func diffReads(got, want instanceReads) string {
	var b strings.Builder
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			fmt.Fprintf(&b, "%s:\n  got  %+v\n  want %+v\n", g.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface())
		}
	}
	return b.String()
}

// TestCountyVersionsLogEveryChange: every kind of write the views depend on
// moves its county's change version by the rows it wrote, in the writing
// statement, and logs each row's shop (0 for a road or the county) under its
// own version; a shop moved to another county (its first registration) is
// logged in both; a rolled back transaction leaves no trace; the log checks
// clean, pruned or not. The writes are plain SQL, behind the back of a
// service whose views, read after each, equal a recomputation.
func TestCountyVersionsLogEveryChange(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := dbtest.Open(t, d)
			now := localTime(2026, time.November, 10, 10)
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.SQL().ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			id := func(q string, args ...any) int64 {
				t.Helper()
				var v int64
				if err := db.SQL().QueryRowContext(ctx, q, args...).Scan(&v); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				return v
			}
			// versions are the counties' (without the closed cycles' count).
			versions := func() map[int64]int64 {
				t.Helper()
				vs, err := db.CountyVersions(ctx)
				if err != nil {
					t.Fatal(err)
				}
				vs = maps.Clone(vs)
				maps.DeleteFunc(vs, func(k, _ int64) bool { return !models.IsCounty(k) })
				return vs
			}
			// A service reads the counties' views of November after every
			// write: written behind its back, they are refreshed from the log.
			s := viewService(db, dbtest.NewClock(now), t.TempDir(), nil)
			// expect runs write and checks that each county's version moved
			// by the changes want logs there, and that those are logged.
			expect := func(what string, write func(), want func() map[int64][]int64) {
				t.Helper()
				before := versions()
				write()
				after, logged := versions(), want()
				for county, v := range after {
					if _, _, _, diff := viewMismatch(t, s, county, s.policy.CycleOf(now)); diff != "" {
						t.Errorf("%s: county %d: the view differs from a recomputation:\n%s", what, county, diff)
					}
					var got []int64
					changes, err := db.CountyChanges(ctx, county, before[county], v)
					if err != nil {
						t.Fatal(err)
					}
					for _, c := range changes {
						got = append(got, c.MerchantID)
					}
					w := slices.Clone(logged[county])
					slices.Sort(got)
					slices.Sort(w)
					if v-before[county] != int64(len(w)) || !slices.Equal(got, w) {
						t.Errorf("%s: county %d: version %d → %d, logged %v; want %d more, logging %v", what, county, before[county], v, got, len(w), w)
					}
				}
			}
			none := func() map[int64][]int64 { return nil }

			var ca, cb, cc, user, ra, ra2, rb, m1, m2, entry, notice, appeal int64
			expect("two counties inserted", func() {
				exec(`INSERT INTO counties (code, name, created_at, updated_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)`,
					"370303", "张店区", now, now, "370302", "淄川区", now, now)
				ca, cb = id(`SELECT id FROM counties WHERE code = ?`, "370303"), id(`SELECT id FROM counties WHERE code = ?`, "370302")
			}, none)
			if vs := versions(); len(vs) != 2 || vs[ca] != 0 || vs[cb] != 0 {
				t.Fatalf("versions of two new counties: %v, want both at 0", vs)
			}
			exec(`INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES ('admin', 'x', 'city_admin', ?, ?)`, now, now)
			user = id(`SELECT id FROM users WHERE username = 'admin'`)
			expect("two roads inserted", func() {
				exec(`INSERT INTO roads (county_id, name, created_at, updated_at) VALUES (?, '柳泉路', ?, ?), (?, '华光路', ?, ?)`, ca, now, now, ca, now, now)
				ra, ra2 = id(`SELECT id FROM roads WHERE name = '柳泉路'`), id(`SELECT id FROM roads WHERE name = '华光路'`)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {0, 0}} })
			expect("a road of the other county inserted", func() {
				exec(`INSERT INTO roads (county_id, name, created_at, updated_at) VALUES (?, '松龄路', ?, ?)`, cb, now, now)
				rb = id(`SELECT id FROM roads WHERE name = '松龄路'`)
			}, func() map[int64][]int64 { return map[int64][]int64{cb: {0}} })
			expect("two shops inserted", func() {
				exec(`INSERT INTO merchants (code, county_id, road_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)`,
					"M0000001", ca, ra, "烧烤店", now, now, "M0000002", ca, ra2, "面馆", now.Add(-time.Hour), now)
				m1, m2 = id(`SELECT id FROM merchants WHERE code = 'M0000001'`), id(`SELECT id FROM merchants WHERE code = 'M0000002'`)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1, m2}} })
			expect("two shops updated", func() {
				exec(`UPDATE merchants SET name = '改名', updated_at = ? WHERE id IN (?, ?)`, now, m1, m2)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1, m2}} })
			expect("two score rows inserted", func() {
				exec(`INSERT INTO scores (merchant_id, cycle, score, updated_at) VALUES (?, '2026-11', 100, ?), (?, '2026-11', 100, ?)`, m1, now, m2, now)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1, m2}} })
			expect("two score rows updated", func() {
				exec(`UPDATE scores SET deductions = 5, score = 95 WHERE cycle = '2026-11' AND merchant_id IN (?, ?)`, m1, m2)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1, m2}} })
			expect("an inspection inserted", func() {
				exec(`INSERT INTO inspections (merchant_id, officer_id, cycle, inspected_at, delta, idempotency_key, request_hash, response, created_at)
					VALUES (?, ?, '2026-11', ?, -5, 'k1', 'h', '{}', ?)`, m1, user, now, now)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1}} })
			exec(`INSERT INTO ledger_entries (merchant_id, cycle, kind, counts_as, points, rule_code, author_id, occurred_at, created_at)
				VALUES (?, '2026-11', 'deduction', 'deduction', -5, 'HJWS-02', ?, ?, ?)`, m1, user, now, now)
			entry = id(`SELECT id FROM ledger_entries WHERE merchant_id = ?`, m1)
			expect("a notice inserted", func() {
				exec(`INSERT INTO notices (merchant_id, county_id, status, issued_by, issued_at, due_at) VALUES (?, ?, 'open', ?, ?, ?)`,
					m1, ca, user, now, now.Add(24*time.Hour))
				notice = id(`SELECT id FROM notices WHERE merchant_id = ?`, m1)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1}} })
			expect("a notice updated", func() {
				exec(`UPDATE notices SET status = 'rectified', resolved_by = ?, resolved_at = ? WHERE id = ?`, user, now, notice)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1}} })
			expect("an appeal inserted", func() {
				exec(`INSERT INTO appeals (merchant_id, entry_id, cycle, reason, status, filed_by, filed_at) VALUES (?, ?, '2026-11', '冤枉', 'pending', ?, ?)`,
					m1, entry, user, now)
				appeal = id(`SELECT id FROM appeals WHERE entry_id = ?`, entry)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1}} })
			expect("an appeal updated", func() {
				exec(`UPDATE appeals SET status = 'rejected', decided_by = ?, decided_at = ? WHERE id = ?`, user, now, appeal)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1}} })
			expect("two roads updated", func() {
				exec(`UPDATE roads SET demo_status = 'candidate' WHERE id IN (?, ?)`, ra, ra2)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {0, 0}} })
			expect("a county updated", func() {
				exec(`UPDATE counties SET demo_road_target = 12 WHERE id = ?`, ca)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {0}} })
			var officer int64
			accounts := func() map[int64][]int64 { return map[int64][]int64{ca: {-1}} }
			expect("an account of the county inserted", func() {
				exec(`INSERT INTO users (username, password_hash, role, county_id, display_name, created_at, updated_at)
					VALUES ('officer1', 'x', 'officer', ?, '王巡查', ?, ?)`, ca, now, now)
				officer = id(`SELECT id FROM users WHERE username = 'officer1'`)
			}, accounts)
			expect("an account renamed", func() { exec(`UPDATE users SET display_name = '赵巡查' WHERE id = ?`, officer) }, accounts)
			expect("an account disabled", func() { exec(`UPDATE users SET disabled = TRUE WHERE id = ?`, officer) }, accounts)
			expect("a password reset", func() {
				exec(`UPDATE users SET password_hash = 'y', token_generation = token_generation + 1, updated_at = ? WHERE id = ?`, now.Add(time.Second), officer)
			}, none)
			expect("an officer put on a road and taken off", func() {
				exec(`INSERT INTO road_officers (road_id, user_id) VALUES (?, ?)`, ra, officer)
				exec(`DELETE FROM road_officers WHERE road_id = ?`, ra)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {-1, -1}} })
			expect("an account moved to the other county", func() { exec(`UPDATE users SET county_id = ? WHERE id = ?`, cb, officer) },
				func() map[int64][]int64 { return map[int64][]int64{ca: {-1}, cb: {-1}} })
			closed := func() int64 {
				t.Helper()
				vs, err := db.CountyVersions(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return vs[models.ClosedCyclesKey]
			}
			before := closed()
			expect("a cycle closed", func() {
				exec(`INSERT INTO closed_cycles (cycle, closed_at, closed_by) VALUES ('2026-10', ?, 'system')`, now)
			}, none)
			if after := closed(); after != before+1 {
				t.Errorf("closed cycles counted %d, then %d after one more", before, after)
			}
			expect("an audit event", func() {
				exec(`INSERT INTO audit_events (county_id, actor_id, actor_name, kind, object_type, object_id, summary, before_json, after_json, occurred_at)
					VALUES (NULL, ?, 'admin', 'user.update', 'user', ?, '改密码', '{}', '{}', ?)`, user, officer, now)
			}, none)
			if vs, err := db.CountyVersions(ctx); err != nil || vs[models.AuditEventsKey] != id(`SELECT MAX(id) FROM audit_events`) {
				t.Errorf("newest audit event %d (%v), want %d", vs[models.AuditEventsKey], err, id(`SELECT MAX(id) FROM audit_events`))
			}
			expect("a county inserted", func() {
				exec(`INSERT INTO counties (code, name, created_at, updated_at) VALUES ('370304', '博山区', ?, ?)`, now, now)
				cc = id(`SELECT id FROM counties WHERE code = '370304'`)
			}, none)
			if v, ok := versions()[cc]; !ok || v != 0 {
				t.Errorf("a new county's version: %d (%v), want 0", v, ok)
			}
			expect("a shop moved to another county's road", func() {
				exec(`UPDATE merchants SET county_id = ?, road_id = ? WHERE id = ?`, cb, rb, m2)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m2}, cb: {m2}} })
			expect("the score rows of shops of two counties updated", func() {
				exec(`UPDATE scores SET deductions = 10, score = 90 WHERE cycle = '2026-11' AND merchant_id IN (?, ?)`, m1, m2)
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1}, cb: {m2}} })
			expect("a transaction of three writes", func() {
				tx, err := db.SQL().BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range []struct {
					sql  string
					args []any
				}{
					{`UPDATE merchants SET name = '又改名' WHERE id = ?`, []any{m1}},
					{`INSERT INTO notices (merchant_id, county_id, status, issued_by, issued_at, due_at) VALUES (?, ?, 'open', ?, ?, ?)`,
						[]any{m1, ca, user, now, now.Add(time.Hour)}},
					{`UPDATE roads SET name = '柳泉东路' WHERE id = ?`, []any{ra}},
				} {
					if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
						t.Fatalf("%s: %v", q.sql, err)
					}
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}, func() map[int64][]int64 { return map[int64][]int64{ca: {m1, m1, 0}} })
			expect("a transaction rolled back", func() {
				tx, err := db.SQL().BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE merchants SET name = '不作数' WHERE id IN (?, ?)`, m1, m2); err != nil {
					t.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE counties SET demo_road_target = 3`); err != nil {
					t.Fatal(err)
				}
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
			}, none)

			if problems, err := db.CheckCountyVersions(ctx); err != nil || len(problems) > 0 {
				t.Errorf("check of the log: %v %v", problems, err)
			}
			if n, err := db.PruneCountyChanges(ctx, 2); err != nil || n == 0 {
				t.Errorf("pruned %d changes (%v), want some", n, err)
			}
			v := versions()[ca]
			if changes, err := db.CountyChanges(ctx, ca, 0, v); err != nil || len(changes) != 2 || changes[0].Version != v-1 {
				t.Errorf("county %d at version %d after pruning to 2 changes: log %+v (%v)", ca, v, changes, err)
			}
			if problems, err := db.CheckCountyVersions(ctx); err != nil || len(problems) > 0 {
				t.Errorf("check of the pruned log: %v %v", problems, err)
			}
		})
	}
}
