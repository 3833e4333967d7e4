package service

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// County views (区县视图缓存).
//
// A county view is a county's evaluation of one open cycle: every ranked shop
// with its live score and rated star, in ranking order, and every road with
// its demonstration metrics. It is what the demonstration view, the county
// dashboard, the counties board, the provisional bulletin and (without Redis)
// the leaderboards are read from.
//
// The database logs every change a county's views depend on, under the
// county's change version (migration 00013). A read first reads the county's
// version (one primary-key lookup); a view of that version or newer is shared
// by every reader as it is. An older one is brought up to date by one reader
// while the others wait: the shops changed since are read again (four small
// queries) and merged into a copy; a change of a road or of the county itself,
// or a log pruned past the view, rebuilds the view from scratch. So a read
// that starts after a write committed, on any instance, sees the write, and
// at 10 writes a second the readers share a handful of refreshes.
//
// Overdue notices are the one thing that changes without a write: a view
// also goes stale when a notice it counts as not yet overdue falls due.
//
// Memory: at most maxCountyViews views are kept (each holds its county's
// ranked shops once, about 250 bytes a shop, and the pages read of it, at
// most maxViewPages); past that the least recently read is dropped.

// maxCountyViews bounds the views kept: two open cycles (the current one and
// one in its grace period) of 32 counties.
const maxCountyViews = 64

// fullRefreshShare: when more than 1/fullRefreshShare of a county's shops
// changed since a view was built (an import), it is rebuilt instead.
const fullRefreshShare = 4

// countyView is one county's evaluation of one cycle at a version: shared by
// its readers, never changed.
type countyView struct {
	version    int64
	county     models.County
	cycle      policy.Cycle
	roads      []models.Road           // by id
	merchants  []models.MerchantResult // ranked: score desc, code asc
	at         map[int64]int           // merchant id → index in merchants
	roadViews  []RoadResultView        // ranked
	overdue    map[int64]int           // shop → notices overdue in the cycle
	sum        int                     // of the live scores
	staleAfter time.Time               // zero: only a write makes it stale

	firstRegistration time.Time // of the county's shops, closed ones too; zero: none
	inspected         int       // ranked shops inspected in the cycle
	stars             []int     // ranked shops by rated star: stars[n] have n★
	underWatch        int       // ranked shops under the 重点监管 line

	byRoadOnce sync.Once         // byRoad is filled on first use (see road)
	byRoad     map[int64][]int32 // road → indices into merchants
	pages      sync.Map          // viewPageKey → *memoPage: the pages read of this view
	npages     atomic.Int64      // pages stored (at most maxViewPages)

	roadsEncoded atomic.Pointer[[]byte]   // the road ranking as the API writes it (RoadBoardEncoded)
	bulletin     atomic.Pointer[Bulletin] // the provisional bulletin (CountyBulletin)
}

type viewKey struct {
	county int64
	cycle  policy.Cycle
}

type viewSlot struct {
	refresh sync.Mutex // held by the reader bringing the view up to date
	view    atomic.Pointer[countyView]
	used    atomic.Int64 // unix nanos of the last read, for eviction
}

type countyViews struct {
	mu    sync.Mutex
	slots map[viewKey]*viewSlot

	builds, refreshes atomic.Int64 // full builds and incremental refreshes so far (tests, metrics)
}

func newCountyViews() *countyViews { return &countyViews{slots: map[viewKey]*viewSlot{}} }

// last returns the view of k built last, or nil, without making a slot.
func (v *countyViews) last(k viewKey) *countyView {
	v.mu.Lock()
	sl := v.slots[k]
	v.mu.Unlock()
	if sl == nil {
		return nil
	}
	return sl.view.Load()
}

func (v *countyViews) slot(k viewKey) *viewSlot {
	v.mu.Lock()
	defer v.mu.Unlock()
	sl := v.slots[k]
	if sl == nil {
		if len(v.slots) >= maxCountyViews {
			var oldest viewKey
			first := true
			for k, s := range v.slots {
				if first || s.used.Load() < v.slots[oldest].used.Load() {
					oldest, first = k, false
				}
			}
			delete(v.slots, oldest)
		}
		sl = &viewSlot{}
		v.slots[k] = sl
	}
	sl.used.Store(time.Now().UnixNano())
	return sl
}

// fresh tells whether the view answers a read that found the county at
// version at now.
func (cv *countyView) fresh(version int64, now time.Time) bool {
	return cv != nil && cv.version >= version && (cv.staleAfter.IsZero() || !now.After(cv.staleAfter))
}

// countyView returns the county's view of open cycle c, as of a version at
// least the one the database holds now.
// With the database unreachable, it is the last view built (lastViewIfDown).
func (s *Service) countyView(ctx context.Context, countyID int64, c policy.Cycle) (*countyView, error) {
	version, err := s.countyVersion(ctx, countyID)
	if err != nil {
		return s.lastViewIfDown(ctx, countyID, c, err)
	}
	cv, err := s.countyViewAt(ctx, countyID, c, version)
	if err != nil {
		return s.lastViewIfDown(ctx, countyID, c, err)
	}
	return cv, nil
}

func (s *Service) countyViewAt(ctx context.Context, countyID int64, c policy.Cycle, version int64) (*countyView, error) {
	sl := s.views.slot(viewKey{countyID, c})
	if cv := sl.view.Load(); cv.fresh(version, s.now()) {
		return cv, nil
	}
	sl.refresh.Lock()
	defer sl.refresh.Unlock()
	cur := sl.view.Load()
	if cur.fresh(version, s.now()) {
		return cur, nil // another reader brought it up to date meanwhile
	}
	next, err := s.refreshCountyView(ctx, countyID, c, cur)
	if err != nil {
		return nil, err
	}
	sl.view.Store(next)
	return next, nil
}

// refreshCountyView brings cur (nil: none yet) up to the database's version.
func (s *Service) refreshCountyView(ctx context.Context, countyID int64, c policy.Cycle, cur *countyView) (*countyView, error) {
	// The version is read before anything else: whatever is read after it is
	// at least that new, and a change committed meanwhile has a higher
	// version, so the next refresh reads its shop again.
	version, err := s.db.CountyVersion(ctx, countyID)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return s.buildCountyView(ctx, countyID, c, version)
	}
	changes, err := s.db.CountyChanges(ctx, countyID, cur.version, version)
	if err != nil {
		return nil, err
	}
	if int64(len(changes)) != version-cur.version {
		return s.buildCountyView(ctx, countyID, c, version) // the log was pruned past the view
	}
	seen := map[int64]bool{}
	ids := []int64{} // none: only a notice fell due (not nil: nil reads every shop)
	for _, ch := range changes {
		if ch.MerchantID == 0 {
			return s.buildCountyView(ctx, countyID, c, version) // a road or the county itself
		}
		if ch.MerchantID < 0 {
			continue // an account or a road's officers: nothing of the view
		}
		if !seen[ch.MerchantID] {
			seen[ch.MerchantID] = true
			ids = append(ids, ch.MerchantID)
		}
	}
	if len(ids) > 64 && len(ids) > len(cur.merchants)/fullRefreshShare {
		return s.buildCountyView(ctx, countyID, c, version)
	}
	in, err := s.loadCountyInputs(ctx, cur.county, c, ids)
	if err != nil {
		return nil, err
	}
	if in.movedOut {
		return s.buildCountyView(ctx, countyID, c, version) // its first registration may have left with it
	}
	in.roads = cur.roads
	s.views.refreshes.Add(1)
	return s.evaluateCountyView(cur, in, version), nil
}

func (s *Service) buildCountyView(ctx context.Context, countyID int64, c policy.Cycle, version int64) (*countyView, error) {
	county, err := s.db.CountyByID(ctx, countyID)
	if err != nil {
		return nil, storeErr(err, "区县")
	}
	in, err := s.loadCountyInputs(ctx, county, c, nil)
	if err != nil {
		return nil, err
	}
	s.views.builds.Add(1)
	return s.evaluateCountyView(&countyView{county: county, cycle: c}, in, version), nil
}

// countyInputs is what evaluating a county's shops reads: all of them, or the
// changed ones (ids).
type countyInputs struct {
	ids        []int64 // nil: every shop of the county
	roads      []models.Road
	merchants  []models.ViewMerchant // those of ids that still belong to the county, whatever their status
	scores     map[int64][]models.Score
	repairs    map[int64][]models.Repair // of the shops whose rows hold a serious item
	inspected  map[int64]bool
	overdue    map[int64]int
	staleAfter time.Time
	first      time.Time // the county's first registration (every shop read), else the earliest of those read
	movedOut   bool      // a shop read has moved to another county
}

// loadCountyInputs reads the inputs of cycle c's evaluation: of every shop of
// the county when ids is nil (with its roads), else of those shops only. The
// notices are read for the whole county either way.
func (s *Service) loadCountyInputs(ctx context.Context, county models.County, c policy.Cycle, ids []int64) (countyInputs, error) {
	in := countyInputs{ids: ids}
	var err error
	now := s.now()
	switch {
	case ids == nil:
		if in.roads, err = s.db.BoardRoads(ctx, county.ID); err != nil {
			return in, err
		}
		ms, err := s.db.RankedMerchantsOfCounty(ctx, county.ID, s.policy.CycleStart(c.Next()))
		if err != nil {
			return in, err
		}
		in.merchants = make([]models.ViewMerchant, len(ms))
		for i, m := range ms {
			in.merchants[i] = models.ViewMerchant{CountyMerchant: m, CountyID: county.ID, Status: models.MerchantActive}
		}
		rows, err := s.db.ScoresOfCounty(ctx, county.ID, s.historyCycles(c))
		if err != nil {
			return in, err
		}
		in.scores = byMerchant(rows)
		if in.inspected, err = s.db.InspectedMerchants(ctx, county.ID, c.String()); err != nil {
			return in, err
		}
		if in.first, err = s.db.FirstRegistration(ctx, county.ID); err != nil {
			return in, err
		}
	case len(ids) > 0:
		ms, err := s.db.ViewMerchantsByIDs(ctx, ids)
		if err != nil {
			return in, err
		}
		for _, m := range ms {
			if m.CountyID != county.ID {
				in.movedOut = true
			} else {
				in.merchants = append(in.merchants, m)
				if in.first.IsZero() || m.CreatedAt.Before(in.first) {
					in.first = m.CreatedAt // registration times never change
				}
			}
		}
		rows, err := s.db.ScoresOf(ctx, ids, s.historyCycles(c))
		if err != nil {
			return in, err
		}
		in.scores = byMerchant(rows)
		if in.inspected, err = s.db.InspectedAmong(ctx, ids, c.String()); err != nil {
			return in, err
		}
	}
	if in.repairs, err = s.repairsFor(ctx, in.scores); err != nil {
		return in, err
	}
	if in.overdue, err = s.overdueNotices(ctx, county.ID, c, now); err != nil {
		return in, err
	}
	if end := s.policy.CycleStart(c.Next()); now.Before(end) {
		// the same now: a notice due in between is counted by one or the other
		in.staleAfter, err = s.db.NextNoticeDue(ctx, county.ID, now, end)
	}
	return in, err
}

func byMerchant(rows []models.Score) map[int64][]models.Score {
	out := map[int64][]models.Score{}
	for _, r := range rows {
		out[r.MerchantID] = append(out[r.MerchantID], r)
	}
	return out
}

// ranksIn tells whether shop m ranks in cycle c: registered before the cycle
// ended (and in or before c), and active or closed only after it ended.
func (s *Service) ranksIn(m models.ViewMerchant, c policy.Cycle) bool {
	end := s.policy.CycleStart(c.Next())
	if !m.CreatedAt.Before(end) || c.Before(s.policy.CycleOf(m.CreatedAt)) {
		return false
	}
	return m.Status == models.MerchantActive || (m.ClosedAt != nil && !m.ClosedAt.Before(end))
}

// evaluateCountyView evaluates the shops of in and merges them into base's
// (nothing when in holds every shop), then sums up the roads.
func (s *Service) evaluateCountyView(base *countyView, in countyInputs, version int64) *countyView {
	c := base.cycle
	roadName := make(map[int64]string, len(in.roads))
	for _, r := range in.roads {
		roadName[r.ID] = r.Name
	}
	fresh := make([]models.MerchantResult, 0, len(in.merchants))
	for _, m := range in.merchants {
		if !s.ranksIn(m, c) {
			continue
		}
		res := s.policy.Evaluate(s.standingFrom(models.Merchant{ID: m.ID, CreatedAt: m.CreatedAt}, c, in.scores[m.ID], in.repairs[m.ID]))
		cur := policy.Tally{}
		for _, r := range in.scores[m.ID] {
			if r.Cycle == c.String() {
				cur = policy.Tally{Deductions: r.Deductions, Bonuses: r.Bonuses, Serious: r.Serious}
			}
		}
		fresh = append(fresh, models.MerchantResult{Cycle: c.String(), MerchantID: m.ID, CountyID: base.county.ID, RoadID: m.RoadID,
			Code: m.Code, Name: m.Name, RoadName: roadName[m.RoadID], Score: res.Score, Star: res.Star, RatedStar: res.RatedStar,
			Deductions: cur.Deductions, Bonuses: cur.Bonuses, Serious: cur.Serious, Inspected: in.inspected[m.ID]})
	}
	slices.SortFunc(fresh, rankOrder)
	merchants := fresh
	if in.ids != nil {
		// Keep base's other shops, in order, and merge the re-read ones in.
		changed := make(map[int64]bool, len(in.ids))
		for _, id := range in.ids {
			changed[id] = true
		}
		merchants = make([]models.MerchantResult, 0, len(base.merchants)+len(fresh))
		i := 0
		for _, m := range base.merchants {
			if changed[m.MerchantID] {
				continue
			}
			for i < len(fresh) && rankOrder(fresh[i], m) < 0 {
				merchants = append(merchants, fresh[i])
				i++
			}
			merchants = append(merchants, m)
		}
		merchants = append(merchants, fresh[i:]...)
	}
	cv := &countyView{version: version, county: base.county, cycle: c, roads: in.roads, merchants: merchants,
		at: make(map[int64]int, len(merchants)), overdue: in.overdue, staleAfter: in.staleAfter}
	cv.firstRegistration = base.firstRegistration
	if cv.firstRegistration.IsZero() || (!in.first.IsZero() && in.first.Before(cv.firstRegistration)) {
		cv.firstRegistration = in.first
	}
	cv.stars = make([]int, len(s.policy.StarThresholds)+1)
	for i, m := range merchants {
		cv.at[m.MerchantID] = i
		cv.sum += m.Score
		if m.Inspected {
			cv.inspected++
		}
		if m.RatedStar >= 0 && m.RatedStar < len(cv.stars) {
			cv.stars[m.RatedStar]++
		}
		if s.policy.UnderWatch(m.Score) {
			cv.underWatch++
		}
	}
	cv.roadViews = s.roadResults(base.county, c, in.roads, merchants, in.overdue)
	return cv
}

// rankOrder orders shops by score descending, then code.
func rankOrder(a, b models.MerchantResult) int {
	return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.Code, b.Code))
}

// roadResults sums up each road's ranked shops into its demonstration
// metrics and ranks the roads.
func (s *Service) roadResults(county models.County, c policy.Cycle, roads []models.Road, ms []models.MerchantResult, overdue map[int64]int) []RoadResultView {
	type acc struct {
		m   RoadMetrics
		sum int
	}
	perRoad := make(map[int64]*acc, len(roads))
	for _, r := range roads {
		perRoad[r.ID] = &acc{}
	}
	for _, m := range ms {
		a := perRoad[m.RoadID]
		if a == nil {
			continue
		}
		a.m.ActiveMerchants++
		a.sum += m.Score
		if m.Inspected {
			a.m.Inspected++
		}
		if m.RatedStar >= s.policy.Demonstration.MinRatedStar {
			a.m.RatedHigh++
		}
		a.m.SeriousItems += max(m.Serious, 0)
		a.m.OverdueNotices += overdue[m.MerchantID]
	}
	views := make([]RoadResultView, 0, len(roads))
	for _, r := range roads {
		a := perRoad[r.ID]
		n := a.m.ActiveMerchants
		a.m.InspectedShare = share(a.m.Inspected, n)
		a.m.RatedHighShare = share(a.m.RatedHigh, n)
		a.m.AverageScore = float64(cents(a.sum, n)) / 100
		fail := Qualify(s.policy.Demonstration, a.m, a.sum)
		metrics, _ := json.Marshal(a.m)
		views = append(views, RoadResultView{RoadResult: models.RoadResult{Cycle: c.String(), RoadID: r.ID, CountyID: county.ID,
			Name: r.Name, DemoStatus: r.DemoStatus, ScoreCents: cents(a.sum, n), Merchants: n, Qualified: len(fail) == 0,
			Failing: strings.Join(fail, ","), Metrics: string(metrics)}, Metrics: a.m, Failing: nonNil(fail)})
	}
	rankRoadViews(views)
	return views
}

// CheckViews lists what is wrong with what the views and rankings are
// derived from besides the scores (Check): the change log (a county without a
// version, changes above it or missing below it) and the closed cycles' road
// results, which must sum up their frozen shop results (shops, score,
// inspected, rated high, serious items).
func (s *Service) CheckViews(ctx context.Context) ([]string, error) {
	problems, err := s.db.CheckCountyVersions(ctx)
	if err != nil {
		return nil, err
	}
	type acc struct {
		n, sum, inspected, high, serious int
	}
	sums := map[[2]string]*acc{}
	key := func(cycle string, road int64) [2]string { return [2]string{cycle, strconv.FormatInt(road, 10)} }
	err = s.db.EachFrozenMerchant(ctx, func(m models.MerchantResult) error {
		a := sums[key(m.Cycle, m.RoadID)]
		if a == nil {
			a = &acc{}
			sums[key(m.Cycle, m.RoadID)] = a
		}
		a.n++
		a.sum += m.Score
		if m.Inspected {
			a.inspected++
		}
		if m.RatedStar >= s.policy.Demonstration.MinRatedStar {
			a.high++
		}
		a.serious += max(m.Serious, 0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.db.EachFrozenRoad(ctx, func(r models.RoadResult) error {
		a := sums[key(r.Cycle, r.RoadID)]
		if a == nil {
			a = &acc{}
		}
		var m RoadMetrics
		if err := json.Unmarshal([]byte(r.Metrics), &m); err != nil {
			problems = append(problems, fmt.Sprintf("cycle %s road %d: metrics unreadable: %v", r.Cycle, r.RoadID, err))
			return nil
		}
		got := acc{r.Merchants, 0, m.Inspected, m.RatedHigh, m.SeriousItems}
		want := *a
		want.sum = 0
		if got != want || r.ScoreCents != cents(a.sum, a.n) || m.ActiveMerchants != a.n {
			problems = append(problems, fmt.Sprintf("cycle %s road %d: stored %d shops, %.2f points, %d inspected, %d rated high, %d serious; its shops give %d, %.2f, %d, %d, %d",
				r.Cycle, r.RoadID, r.Merchants, float64(r.ScoreCents)/100, m.Inspected, m.RatedHigh, m.SeriousItems,
				a.n, float64(cents(a.sum, a.n))/100, a.inspected, a.high, a.serious))
		}
		return nil
	})
	return problems, err
}

// keepCountyChanges is how many of its latest changes each county's log
// keeps (three or so per inspection); a view further behind rebuilds.
const keepCountyChanges = 100_000

// PruneCountyChanges trims each county's change log to its last
// keepCountyChanges changes (the serving instances' background job).
func (s *Service) PruneCountyChanges(ctx context.Context) (int64, error) {
	return s.db.PruneCountyChanges(ctx, keepCountyChanges)
}
