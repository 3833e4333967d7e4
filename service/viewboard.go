package service

import (
	"context"
	"slices"
	"sort"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// viewBoard answers the rankings of open cycles from the county views (see
// countyview.go): a page, a position or a county's roads costs the county's
// version lookup and a slice of the view. next still hears every change and
// rebuild (Redis keeps its sets); with redisTop, merchant pages are read from
// next, whose pages are as fresh and cost one Redis round trip.
type viewBoard struct {
	s        *Service
	next     leaderboard.Board
	redisTop bool
}

var _ leaderboard.Board = viewBoard{}

// views returns the views of cycle c that scope s reads: its county's, or
// every county's for the city.
func (b viewBoard) views(ctx context.Context, c policy.Cycle, s leaderboard.Scope) ([]*countyView, error) {
	if s.Kind != leaderboard.City {
		county := s.CountyID
		if county == 0 {
			var err error
			if county, err = b.s.countyOf(ctx, "road", s.RoadID); err != nil {
				return nil, err
			}
		}
		cv, err := b.s.countyView(ctx, county, c)
		if err != nil {
			return nil, err
		}
		return []*countyView{cv}, nil
	}
	versions, err := b.s.versions.read(ctx)
	if err != nil {
		if p := b.s.cityCounties.Load(); p != nil {
			return b.s.lastViewsIfDown(ctx, c, *p, err)
		}
		return nil, err
	}
	ids := make([]int64, 0, len(versions))
	for id := range versions {
		if models.IsCounty(id) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]*countyView, len(ids))
	for i, id := range ids {
		if out[i], err = b.s.countyViewAt(ctx, id, c, versions[id]); err != nil {
			return b.s.lastViewsIfDown(ctx, c, ids, err)
		}
	}
	if p := b.s.cityCounties.Load(); p == nil || !slices.Equal(*p, ids) {
		b.s.cityCounties.Store(&ids)
	}
	return out, nil
}

// ranked is one view's shops of a scope, in ranking order.
type ranked struct {
	cv  *countyView
	idx []int32 // indices into cv.merchants; nil: all of them
}

func (r ranked) len() int {
	if r.idx == nil {
		return len(r.cv.merchants)
	}
	return len(r.idx)
}

func (r ranked) at(i int) *models.MerchantResult {
	if r.idx == nil {
		return &r.cv.merchants[i]
	}
	return &r.cv.merchants[r.idx[i]]
}

// above counts the shops scoring strictly more than score.
func (r ranked) above(score int) int {
	return sort.Search(r.len(), func(i int) bool { return r.at(i).Score <= score })
}

func rankedOf(views []*countyView, s leaderboard.Scope) []ranked {
	out := make([]ranked, len(views))
	for i, cv := range views {
		out[i] = ranked{cv: cv}
		if s.Kind == leaderboard.Road {
			out[i].idx = cv.road(s.RoadID)
		}
	}
	return out
}

// road returns the indices of the road's shops in cv.merchants, in order.
func (cv *countyView) road(id int64) []int32 {
	cv.byRoadOnce.Do(func() {
		cv.byRoad = map[int64][]int32{}
		for i, m := range cv.merchants {
			cv.byRoad[m.RoadID] = append(cv.byRoad[m.RoadID], int32(i))
		}
	})
	if idx, ok := cv.byRoad[id]; ok {
		return idx
	}
	return []int32{}
}

// page returns one page of a ranking over rs (several views merged in
// ranking order for the city), with competition ranks, and its total.
func page(rs []ranked, limit, offset int) ([]*models.MerchantResult, int, int) {
	total := 0
	for _, r := range rs {
		total += r.len()
	}
	pos := make([]int, len(rs))
	var out []*models.MerchantResult
	for n := 0; n < offset+limit; n++ {
		best := -1
		for i, r := range rs {
			if pos[i] < r.len() && (best < 0 || rankOrder(*r.at(pos[i]), *rs[best].at(pos[best])) < 0) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		if n >= offset {
			out = append(out, rs[best].at(pos[best]))
		}
		pos[best]++
	}
	first := 1
	if len(out) > 0 {
		for _, r := range rs {
			first += r.above(out[0].Score)
		}
	}
	return out, total, first
}

// maxViewPages bounds the pages kept in one view.
const maxViewPages = 256

// viewPageKey names a page of a county's or road's ranking in a view.
type viewPageKey struct {
	road          int64 // 0: the county's ranking
	limit, offset int
}

// viewTop is one page of a ranking of open cycle c with rated stars. The
// pages of a county or road are kept in their view, so that the readers of
// one view share each page's lines and encoding (BoardPage.Encoded).
func (s *Service) viewTop(ctx context.Context, c policy.Cycle, scope leaderboard.Scope, limit, offset int) ([]RankedMerchant, int, *memoPage, error) {
	views, err := viewBoard{s: s}.views(ctx, c, scope)
	if err != nil {
		return nil, 0, nil, err
	}
	limit, offset = min(max(limit, 1), leaderboard.MaxLimit), max(offset, 0)
	key := viewPageKey{road: scope.RoadID, limit: limit, offset: offset}
	if len(views) == 1 {
		if m, ok := views[0].pages.Load(key); ok {
			memo := m.(*memoPage)
			return memo.items, memo.total, memo, nil
		}
	}
	rows, total, first := page(rankedOf(views, scope), limit, offset)
	out := make([]RankedMerchant, len(rows))
	for i, m := range rows {
		rank := first
		switch {
		case i > 0 && m.Score == rows[i-1].Score:
			rank = out[i-1].Rank
		case i > 0:
			rank = offset + i + 1
		}
		out[i] = RankedMerchant{Entry: leaderboard.Entry{Rank: rank, MerchantID: m.MerchantID, Code: m.Code, Name: m.Name, Score: m.Score},
			RatedStar: m.RatedStar}
	}
	if len(views) != 1 {
		return out, total, nil, nil
	}
	memo := &memoPage{items: out, total: total}
	if views[0].npages.Add(1) > maxViewPages {
		return out, total, memo, nil // enough kept: this one is not
	}
	if m, loaded := views[0].pages.LoadOrStore(key, memo); loaded {
		memo = m.(*memoPage)
	}
	return memo.items, memo.total, memo, nil
}

// Top implements leaderboard.Board.
func (b viewBoard) Top(ctx context.Context, cycle string, s leaderboard.Scope, limit, offset int) ([]leaderboard.Entry, int, error) {
	if b.redisTop {
		return b.next.Top(ctx, cycle, s, limit, offset)
	}
	c, err := policy.ParseCycle(cycle)
	if err != nil {
		return nil, 0, err
	}
	rows, total, _, err := b.s.viewTop(ctx, c, s, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]leaderboard.Entry, len(rows))
	for i, r := range rows {
		out[i] = r.Entry
	}
	return out, total, nil
}

// Position implements leaderboard.Board.
func (b viewBoard) Position(ctx context.Context, cycle string, s leaderboard.Scope, m models.Merchant) (leaderboard.Position, error) {
	c, err := policy.ParseCycle(cycle)
	if err != nil {
		return leaderboard.Position{}, err
	}
	views, err := b.views(ctx, c, s)
	if err != nil {
		return leaderboard.Position{}, err
	}
	return position(views, s, m), nil
}

// position is where m stands in scope s of views (Rank 0: not ranked there).
func position(views []*countyView, s leaderboard.Scope, m models.Merchant) leaderboard.Position {
	rs := rankedOf(views, s)
	var p leaderboard.Position
	for _, r := range rs {
		p.Of += r.len()
	}
	score, ok := 0, false
	for _, cv := range views {
		if i, in := cv.at[m.ID]; in {
			score, ok = cv.merchants[i].Score, true
		}
	}
	if !ok || (s.Kind == leaderboard.Road && m.RoadID != s.RoadID) || (s.Kind == leaderboard.County && m.CountyID != s.CountyID) {
		return p
	}
	p.Rank = 1
	for _, r := range rs {
		p.Rank += r.above(score)
	}
	return p
}

// Roads implements leaderboard.Board.
func (b viewBoard) Roads(ctx context.Context, cycle string, countyID int64) ([]leaderboard.RoadEntry, error) {
	c, err := policy.ParseCycle(cycle)
	if err != nil {
		return nil, err
	}
	cv, err := b.s.countyView(ctx, countyID, c)
	if err != nil {
		return nil, err
	}
	return roadEntries(cv), nil
}

// roadEntries is the view's road ranking.
func roadEntries(cv *countyView) []leaderboard.RoadEntry {
	out := make([]leaderboard.RoadEntry, len(cv.roadViews))
	for i, r := range cv.roadViews {
		out[i] = leaderboard.RoadEntry{Rank: r.Rank, RoadID: r.RoadID, Name: r.Name, Score: float64(r.ScoreCents) / 100,
			Merchants: r.Merchants, DemoStatus: r.DemoStatus}
	}
	return out
}

// ScoreChanged implements leaderboard.Board: the views read the change from
// the database; next hears it.
func (b viewBoard) ScoreChanged(ctx context.Context, m models.Merchant, cycle string, score, version int) {
	b.next.ScoreChanged(ctx, m, cycle, score, version)
}

// Rebuild implements leaderboard.Board.
func (b viewBoard) Rebuild(ctx context.Context, cycle string) error {
	return b.next.Rebuild(ctx, cycle)
}
