package service

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// RankedMerchant is one line of a merchant leaderboard.
type RankedMerchant struct {
	leaderboard.Entry
	RatedStar int
}

// BoardQuery asks for one page of a merchant leaderboard.
type BoardQuery struct {
	Scope string // city, county or road
	ID    int64  // the county or road id
	Cycle string // empty: the current cycle
	Paging
}

// canSeeScope: the city scope is the city admin's; a county or road scope is
// for the admins and officers of that county and its merchants.
func (s *Service) boardScope(ctx context.Context, a Actor, q BoardQuery) (leaderboard.Scope, error) {
	switch q.Scope {
	case leaderboard.City:
		if !a.IsCity() {
			return leaderboard.Scope{}, errForbidden
		}
		return leaderboard.Scope{Kind: leaderboard.City}, nil
	case leaderboard.County:
		if q.ID <= 0 {
			return leaderboard.Scope{}, Invalid(map[string]string{"id": "必填（区县 id）"})
		}
		if !a.InCounty(q.ID) {
			return leaderboard.Scope{}, errForbidden
		}
		if _, err := s.countyOf(ctx, "county", q.ID); err != nil {
			return leaderboard.Scope{}, err
		}
		return leaderboard.Scope{Kind: leaderboard.County, CountyID: q.ID}, nil
	case leaderboard.Road:
		if q.ID <= 0 {
			return leaderboard.Scope{}, Invalid(map[string]string{"id": "必填（道路 id）"})
		}
		county, err := s.countyOf(ctx, "road", q.ID)
		if err != nil {
			return leaderboard.Scope{}, err
		}
		if !a.InCounty(county) {
			return leaderboard.Scope{}, errNotFound
		}
		return leaderboard.Scope{Kind: leaderboard.Road, CountyID: county, RoadID: q.ID}, nil
	}
	return leaderboard.Scope{}, Invalid(map[string]string{"scope": "应为 city、county 或 road"})
}

// BoardPage is one page of a merchant leaderboard. Its Items may be shared
// with other callers: read only.
type BoardPage struct {
	Items  []RankedMerchant
	Total  int    // merchants ranked in the scope
	Limit  int    // the page size used (the default when none was asked)
	Offset int    // ranks skipped before the page
	Cycle  string // the cycle ranked

	memo *memoPage // the remembered page these lines are shared with, if any
}

// MerchantBoard returns one page of a merchant leaderboard of the current
// cycle, with each merchant's rated star.
func (s *Service) MerchantBoard(ctx context.Context, a Actor, q BoardQuery) (BoardPage, error) {
	p, err := q.Paging.check()
	if err != nil {
		return BoardPage{}, err
	}
	scope, err := s.boardScope(ctx, a, q)
	if err != nil {
		return BoardPage{}, err
	}
	c, closed, err := s.boardCycle(ctx, q.Cycle)
	if err != nil {
		return BoardPage{}, err
	}
	page := BoardPage{Limit: p.Limit, Offset: p.Offset, Cycle: c.String()}
	if closed {
		page.Items, page.Total, err = s.frozenBoard(ctx, c, scope, p)
		return page, err
	}
	if vb, _ := s.board.(viewBoard); !vb.redisTop || c != s.policy.CycleOf(s.now()) {
		// Without Redis, and for a cycle in its grace period (Redis holds
		// only the current one), the county views answer, stars included.
		page.Items, page.Total, page.memo, err = s.viewTop(ctx, c, scope, p.Limit, p.Offset)
		return page, err
	}
	items, total, err := s.board.Top(ctx, page.Cycle, scope, p.Limit, p.Offset)
	if err != nil {
		return BoardPage{}, err
	}
	page.Total = total
	if len(items) == 0 {
		page.Items = []RankedMerchant{}
		return page, nil
	}
	// The stars come from the county views, read after the request arrived
	// like the page itself: fresh, whichever instance wrote last.
	views, err := viewBoard{s: s}.views(ctx, c, scope)
	if err != nil {
		return BoardPage{}, err
	}
	key := boardKey{scope: scope, cycle: page.Cycle, limit: p.Limit, offset: p.Offset}
	if memo := s.pages.lines(key, items, total, views); memo != nil {
		page.Items, page.memo = memo.items, memo
		return page, nil
	}
	stars, err := s.ratedStars(ctx, items, c, views)
	if err != nil {
		return BoardPage{}, err
	}
	page.Items = make([]RankedMerchant, len(items))
	for i, it := range items {
		page.Items[i] = RankedMerchant{Entry: it, RatedStar: stars[i]}
	}
	page.memo = &memoPage{entries: items, total: total, items: page.Items, views: views}
	s.pages.put(key, page.memo)
	return page, nil
}

// ratedStars returns the rated star of each listed merchant (in the order of
// items) from the views, reading any the views do not rank (registered
// between the views' read and the page's) from the database.
func (s *Service) ratedStars(ctx context.Context, items []leaderboard.Entry, c policy.Cycle, views []*countyView) ([]int, error) {
	out := make([]int, len(items))
	var missing []int
	for i, it := range items {
		found := false
		for _, cv := range views {
			if j, ok := cv.at[it.MerchantID]; ok {
				out[i], found = cv.merchants[j].RatedStar, true
				break
			}
		}
		if !found {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	ids := make([]int64, len(missing))
	for i, at := range missing {
		ids[i] = items[at].MerchantID
	}
	rows, reps, err := s.scoresWithRepairs(ctx, ids, c)
	if err != nil {
		return nil, err
	}
	for _, at := range missing {
		if r, ok := rows[items[at].MerchantID]; ok {
			out[at] = s.policy.RatedStar(s.standingFrom(models.Merchant{ID: items[at].MerchantID, CreatedAt: r.CreatedAt}, c, r.Scores, reps[items[at].MerchantID]))
		}
	}
	return out, nil
}

// MerchantRank is a merchant's place on its road, in its county and the city.
type MerchantRank struct {
	Cycle              string
	Score              int
	Road, County, City leaderboard.Position
	RoadID, CountyID   int64
}

// MerchantRanks returns a merchant's ranks (whoever may see the merchant),
// from the county views of the current cycle.
func (s *Service) MerchantRanks(ctx context.Context, a Actor, id int64) (MerchantRank, error) {
	c := s.policy.CycleOf(s.now())
	city := leaderboard.Scope{Kind: leaderboard.City}
	views, err := viewBoard{s: s}.views(ctx, c, city)
	if err != nil {
		return MerchantRank{}, err
	}
	// A ranked shop is in its county's view, as fresh as the database; a
	// closed one is read from the database.
	var m models.Merchant
	for _, cv := range views {
		if i, ok := cv.at[id]; ok {
			r := cv.merchants[i]
			m = models.Merchant{ID: id, CountyID: r.CountyID, RoadID: r.RoadID, Status: models.MerchantActive}
		}
	}
	if m.ID == 0 {
		if m, err = s.db.MerchantByID(ctx, id); err != nil {
			return MerchantRank{}, storeErr(err, "商户")
		}
	}
	if !s.canSeeMerchant(a, m) {
		return MerchantRank{}, errNotFound
	}
	out := MerchantRank{Cycle: c.String(), RoadID: m.RoadID, CountyID: m.CountyID}
	var own []*countyView
	for _, cv := range views {
		if cv.county.ID == m.CountyID {
			own = append(own, cv)
		}
	}
	out.Road = position(own, leaderboard.Scope{Kind: leaderboard.Road, CountyID: m.CountyID, RoadID: m.RoadID}, m)
	out.County = position(own, leaderboard.Scope{Kind: leaderboard.County, CountyID: m.CountyID}, m)
	out.City = position(views, city, m)
	for _, cv := range own {
		if i, ok := cv.at[m.ID]; ok {
			out.Score = cv.merchants[i].Score
			return out, nil
		}
	}
	st, err := s.standings(ctx, []models.Merchant{m}, c) // a closed shop: its score all the same
	out.Score = st[m.ID].Score
	return out, err
}

// RoadBoard ranks a county's roads by road score (county users), in the
// current cycle or, with cycle, in a past one (frozen once closed).
func (s *Service) RoadBoard(ctx context.Context, a Actor, countyID int64, cycle string) ([]leaderboard.RoadEntry, error) {
	roads, _, err := s.roadBoard(ctx, a, countyID, cycle)
	return roads, err
}

// RoadBoardEncoded is RoadBoard written by encode (given the roads and the
// cycle ranked). The readers of an open cycle share one encoding while the
// county's view is unchanged: encode must depend on its arguments alone and
// be the same function at every call (the API's one JSON writer).
func (s *Service) RoadBoardEncoded(ctx context.Context, a Actor, countyID int64, cycle string,
	encode func(roads []leaderboard.RoadEntry, cycle string) []byte) ([]byte, error) {
	roads, cv, err := s.roadBoard(ctx, a, countyID, cycle)
	if err != nil {
		return nil, err
	}
	if cycle == "" {
		cycle = s.CurrentCycle()
	}
	if cv == nil {
		return encode(roads, cycle), nil
	}
	if b := cv.roadsEncoded.Load(); b != nil {
		return *b, nil
	}
	b := encode(roads, cycle)
	cv.roadsEncoded.Store(&b)
	return b, nil
}

// roadBoard is RoadBoard with the view it was read from (nil: a closed cycle).
func (s *Service) roadBoard(ctx context.Context, a Actor, countyID int64, cycle string) ([]leaderboard.RoadEntry, *countyView, error) {
	if countyID <= 0 {
		return nil, nil, Invalid(map[string]string{"county_id": "必填"})
	}
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return nil, nil, errForbidden
	}
	if !a.InCounty(countyID) {
		return nil, nil, errForbidden
	}
	if _, err := s.countyOf(ctx, "county", countyID); err != nil {
		return nil, nil, err
	}
	c, closed, err := s.boardCycle(ctx, cycle)
	if err != nil {
		return nil, nil, err
	}
	if !closed {
		cv, err := s.countyView(ctx, countyID, c)
		if err != nil {
			return nil, nil, err
		}
		return roadEntries(cv), cv, nil
	}
	county, err := s.db.CountyByID(ctx, countyID)
	if err != nil {
		return nil, nil, storeErr(err, "区县")
	}
	cc, err := s.frozenCountyCycle(ctx, county, c)
	if err != nil {
		return nil, nil, err
	}
	out := make([]leaderboard.RoadEntry, len(cc.Roads))
	for i, r := range cc.Roads {
		out[i] = leaderboard.RoadEntry{Rank: r.Rank, RoadID: r.RoadID, Name: r.Name, Score: float64(r.ScoreCents) / 100,
			Merchants: r.Merchants, DemoStatus: r.DemoStatus}
	}
	return out, nil, nil
}

// RebuildLeaderboards reloads the current cycle's rankings from the database.
func (s *Service) RebuildLeaderboards(ctx context.Context) error {
	return s.board.Rebuild(ctx, s.policy.CycleOf(s.now()).String())
}

// knownKey names a county or road in Service.known.
type knownKey struct {
	kind string // county or road
	id   int64
}

// countyOf returns the county of a county or road id, remembering the answer:
// neither is ever deleted and a road never changes county.
func (s *Service) countyOf(ctx context.Context, kind string, id int64) (int64, error) {
	key := knownKey{kind, id}
	if v, ok := s.known.Load(key); ok {
		return v.(int64), nil
	}
	var county int64
	switch kind {
	case "county":
		c, err := s.db.CountyByID(ctx, id)
		if err != nil {
			return 0, storeErr(err, "区县")
		}
		county = c.ID
	default:
		r, err := s.db.RoadByID(ctx, id)
		if err != nil {
			return 0, storeErr(err, "道路")
		}
		county = r.CountyID
	}
	s.known.Store(key, county)
	return county, nil
}

// boardCycle resolves the cycle a ranking asks for: the current one when
// empty; a past one still in its grace period is live (provisional); an older
// one is read from its frozen results (closed first if nobody had).
func (s *Service) boardCycle(ctx context.Context, cycle string) (policy.Cycle, bool, error) {
	now := s.now()
	cur := s.policy.CycleOf(now)
	if cycle == "" {
		return cur, false, nil
	}
	c, err := policy.ParseCycle(cycle)
	if err != nil {
		return c, false, Invalid(map[string]string{"cycle": "格式应为 YYYY-MM"})
	}
	if cur.Before(c) {
		return c, false, Invalid(map[string]string{"cycle": "不能查询未来的考核周期"})
	}
	if !s.policy.IsClosed(c, now) {
		return c, false, nil
	}
	if _, err := s.db.ClosedCycleByName(ctx, c.String()); errors.Is(err, models.ErrNotFound) {
		if _, err := s.CloseCycle(ctx, c, "auto"); err != nil && ErrorCode(err) != CodeConflict {
			return c, false, err
		}
	} else if err != nil {
		return c, false, err
	}
	return c, true, nil
}

// frozenBoard pages a closed cycle's ranking from its frozen results.
func (s *Service) frozenBoard(ctx context.Context, c policy.Cycle, scope leaderboard.Scope, p Paging) ([]RankedMerchant, int, error) {
	bs := models.BoardScope{CountyID: scope.CountyID}
	if scope.Kind == leaderboard.Road {
		bs = models.BoardScope{RoadID: scope.RoadID}
	} else if scope.Kind == leaderboard.City {
		bs = models.BoardScope{}
	}
	rows, total, above, err := s.db.FrozenBoardPage(ctx, c.String(), bs, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]RankedMerchant, len(rows))
	for i, r := range rows {
		rank := above + 1
		switch {
		case i > 0 && r.Score == rows[i-1].Score:
			rank = out[i-1].Rank
		case i > 0:
			rank = p.Offset + i + 1
		}
		out[i] = RankedMerchant{Entry: leaderboard.Entry{Rank: rank, MerchantID: r.MerchantID, Code: r.Code, Name: r.Name, Score: r.Score},
			RatedStar: r.RatedStar}
	}
	return out, total, nil
}

// CityRoad is a road of the city-wide road ranking.
type CityRoad struct {
	leaderboard.RoadEntry // Rank is the road's rank in the city
	County                models.County
	CountyRank            int // its rank within its county
}

// CityRoadBoard ranks every county's roads together by road score (city
// admin), in the current cycle or a past one, as RoadBoard ranks one county's.
func (s *Service) CityRoadBoard(ctx context.Context, a Actor, cycle string) ([]CityRoad, error) {
	if !a.IsCity() {
		return nil, errForbidden
	}
	counties, err := s.db.ListCounties(ctx, nil)
	if err != nil {
		return nil, err
	}
	var out []CityRoad
	for _, c := range counties {
		board, err := s.RoadBoard(ctx, a, c.ID, cycle)
		if err != nil {
			return nil, err
		}
		for _, e := range board {
			out = append(out, CityRoad{RoadEntry: e, County: c, CountyRank: e.Rank})
		}
	}
	rankCityRoads(out)
	return out, nil
}

// rankCityRoads orders roads of several counties as a county's roads are
// ordered (road score descending, roads without merchants last, ties by road
// id) and gives equal scores one rank (1, 2, 2, 4).
func rankCityRoads(rs []CityRoad) {
	cents := func(r CityRoad) int64 { return int64(math.Round(r.Score * 100)) }
	slices.SortStableFunc(rs, func(a, b CityRoad) int {
		if (a.Merchants == 0) != (b.Merchants == 0) {
			if a.Merchants == 0 {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(cents(b), cents(a)), cmp.Compare(a.RoadID, b.RoadID))
	})
	for i := range rs {
		if i > 0 && cents(rs[i]) == cents(rs[i-1]) && (rs[i].Merchants == 0) == (rs[i-1].Merchants == 0) {
			rs[i].Rank = rs[i-1].Rank
		} else {
			rs[i].Rank = i + 1
		}
	}
}
