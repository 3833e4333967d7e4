package leaderboard

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Scope kinds.
const (
	City   = "city"
	County = "county"
	Road   = "road"
)

// Scope names one ranking: the whole city, a county, or a road. A road scope
// needs RoadID; CountyID may be left 0 and is then looked up.
type Scope struct {
	Kind     string
	CountyID int64
	RoadID   int64
}

// ErrScope is returned for a scope whose kind is unknown or whose id is missing.
var ErrScope = errors.New("leaderboard: bad scope")

func (s Scope) check() error {
	switch {
	case s.Kind == City:
	case s.Kind == County && s.CountyID > 0:
	case s.Kind == Road && s.RoadID > 0:
	default:
		return fmt.Errorf("%w: %+v", ErrScope, s)
	}
	return nil
}

// models turns the scope into the storage filter.
func (s Scope) models() models.BoardScope {
	switch s.Kind {
	case Road:
		return models.BoardScope{RoadID: s.RoadID}
	case County:
		return models.BoardScope{CountyID: s.CountyID}
	}
	return models.BoardScope{}
}

// Entry is one line of a merchant ranking.
type Entry struct {
	Rank       int
	MerchantID int64
	Code       string
	Name       string
	Score      int
}

// Position is a merchant's place in one ranking; Rank is 0 when the merchant
// is not ranked there (closed). Of is the number of ranked merchants.
type Position struct {
	Rank int
	Of   int
}

// RoadEntry is one line of a county's road ranking.
type RoadEntry struct {
	Rank       int
	RoadID     int64
	Name       string
	Score      float64 // average live score of the active merchants, 2 decimals
	Merchants  int     // active merchants
	DemoStatus string
}

// Board answers the leaderboards of a cycle. Rankings use the live score of
// the cycle (the policy's base score without a score row), rank only active
// merchants, share ranks on equal scores (1, 2, 2, 4) and list equal scores by
// merchant code.
type Board interface {
	// Top returns one page of a ranking and how many merchants it ranks.
	// The entries may be shared with other callers: read only.
	// Errors: ErrScope.
	Top(ctx context.Context, cycle string, s Scope, limit, offset int) (items []Entry, total int, err error)
	// Position returns where m stands in a ranking. Errors: ErrScope.
	Position(ctx context.Context, cycle string, s Scope, m models.Merchant) (Position, error)
	// Roads ranks every road of the county by road score, ties by road id;
	// roads without active merchants come last with score 0.
	Roads(ctx context.Context, cycle string, countyID int64) ([]RoadEntry, error)
	// ScoreChanged hears a committed change of m's score, road or status
	// (service.ScoreListener). It never fails: problems are logged and repaired.
	// version orders one merchant's changes of a cycle: a change older than
	// one already applied is ignored; -1 applies unconditionally.
	ScoreChanged(ctx context.Context, m models.Merchant, cycle string, score, version int)
	// Rebuild reloads the cycle's rankings from the database.
	Rebuild(ctx context.Context, cycle string) error
}

// MaxLimit bounds one page.
const MaxLimit = 100

// clampPage keeps a page request within 1..MaxLimit rows and a non-negative offset.
func clampPage(limit, offset int) (int, int) {
	return min(max(limit, 1), MaxLimit), max(offset, 0)
}

// competitionRanks fills in the ranks of one page of a ranking, in order:
// first is the rank of the page's first row (1 + how many score higher), and
// each later row shares the rank of the row before it when the scores are
// equal, else takes its 1-based position.
func competitionRanks(items []Entry, offset, first int) {
	for i := range items {
		switch {
		case i == 0:
			items[i].Rank = first
		case items[i].Score == items[i-1].Score:
			items[i].Rank = items[i-1].Rank
		default:
			items[i].Rank = offset + i + 1
		}
	}
}

// roadCents is the road score in hundredths: the average rounded half up.
func roadCents(total int64, n int) int64 {
	if n == 0 {
		return 0
	}
	// Live scores are never negative, so integer half-up rounding is exact.
	return (total*200 + int64(n)) / (2 * int64(n))
}

// rankRoads builds the road ranking from the county's roads and the tallies of
// their active merchants: road score descending, roads without merchants last,
// ties by road id, equal scores sharing a rank.
func rankRoads(roads []models.Road, tallies map[int64]models.RoadTally) []RoadEntry {
	type row struct {
		RoadEntry
		cents int64
	}
	rows := make([]row, len(roads))
	for i, r := range roads {
		t := tallies[r.ID]
		c := roadCents(t.Total, t.Merchants)
		rows[i] = row{RoadEntry{RoadID: r.ID, Name: r.Name, Score: float64(c) / 100, Merchants: t.Merchants, DemoStatus: r.DemoStatus}, c}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if (a.Merchants == 0) != (b.Merchants == 0) {
			return b.Merchants == 0
		}
		if a.cents != b.cents {
			return a.cents > b.cents
		}
		return a.RoadID < b.RoadID
	})
	out := make([]RoadEntry, len(rows))
	for i, r := range rows {
		out[i] = r.RoadEntry
		switch {
		case i > 0 && r.cents == rows[i-1].cents && (r.Merchants == 0) == (rows[i-1].Merchants == 0):
			out[i].Rank = out[i-1].Rank
		default:
			out[i].Rank = i + 1
		}
	}
	return out
}

// SQL is the Board answered by database queries alone: the choice without
// Redis, and the fallback of Redis.
type SQL struct {
	db     *models.DB
	policy *policy.Policy
}

// NewSQL returns the database-only Board.
func NewSQL(db *models.DB, p *policy.Policy) Board { return newSQL(db, p) }

func newSQL(db *models.DB, p *policy.Policy) *SQL { return &SQL{db: db, policy: p} }

// Top implements Board.
func (q *SQL) Top(ctx context.Context, cycle string, s Scope, limit, offset int) ([]Entry, int, error) {
	if err := s.check(); err != nil {
		return nil, 0, err
	}
	limit, offset = clampPage(limit, offset)
	base := q.policy.BaseScore
	scope, err := q.scope(cycle, s)
	if err != nil {
		return nil, 0, err
	}
	total, err := q.db.BoardCount(ctx, scope)
	if err != nil {
		return nil, 0, err
	}
	rows, err := q.db.BoardPage(ctx, cycle, base, scope, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	items := make([]Entry, len(rows))
	for i, m := range rows {
		items[i] = Entry{MerchantID: m.ID, Code: m.Code, Name: m.Name, Score: m.Score}
	}
	first := 1
	if len(items) > 0 && offset > 0 {
		above, err := q.db.BoardCountAbove(ctx, cycle, base, scope, items[0].Score)
		if err != nil {
			return nil, 0, err
		}
		first = above + 1
	}
	competitionRanks(items, offset, first)
	return items, total, nil
}

// ends is when the cycle ends. The merchants registered before it rank in
// the cycle, those closed since included: they took part in it. For the
// running cycle that is the active ones, as nobody registered or closed in
// the future, so no clock is needed to tell the two apart.
func (q *SQL) ends(cycle string) (time.Time, error) {
	c, err := policy.ParseCycle(cycle)
	if err != nil {
		return time.Time{}, err
	}
	return q.policy.CycleStart(c.Next()), nil
}

// scope is the database scope of s in the cycle.
func (q *SQL) scope(cycle string, s Scope) (models.BoardScope, error) {
	ended, err := q.ends(cycle)
	b := s.models()
	b.Ended = ended
	return b, err
}

// Position implements Board.
func (q *SQL) Position(ctx context.Context, cycle string, s Scope, m models.Merchant) (Position, error) {
	if err := s.check(); err != nil {
		return Position{}, err
	}
	scope, err := q.scope(cycle, s)
	if err != nil {
		return Position{}, err
	}
	of, err := q.db.BoardCount(ctx, scope)
	if err != nil || !ranksIn(m, s, scope.Ended) {
		return Position{Of: of}, err
	}
	score, err := q.db.LiveScore(ctx, m.ID, cycle, q.policy.BaseScore)
	if err != nil {
		return Position{}, err
	}
	above, err := q.db.BoardCountAbove(ctx, cycle, q.policy.BaseScore, scope, score)
	return Position{Rank: above + 1, Of: of}, err
}

// ranksIn reports whether m is ranked in scope s in a cycle that ends at
// ended: active, or closed at or after the end (zero: active only).
func ranksIn(m models.Merchant, s Scope, ended time.Time) bool {
	if m.Status != "active" && (ended.IsZero() || m.ClosedAt == nil || m.ClosedAt.Before(ended)) {
		return false
	}
	switch s.Kind {
	case Road:
		return m.RoadID == s.RoadID
	case County:
		return m.CountyID == s.CountyID
	}
	return true
}

// Roads implements Board.
func (q *SQL) Roads(ctx context.Context, cycle string, countyID int64) ([]RoadEntry, error) {
	if countyID <= 0 {
		return nil, fmt.Errorf("%w: county %d", ErrScope, countyID)
	}
	roads, err := q.db.BoardRoads(ctx, countyID)
	if err != nil {
		return nil, err
	}
	ended, err := q.ends(cycle)
	if err != nil {
		return nil, err
	}
	rows, err := q.db.RoadTallies(ctx, cycle, q.policy.BaseScore, countyID, ended)
	if err != nil {
		return nil, err
	}
	tallies := make(map[int64]models.RoadTally, len(rows))
	for _, t := range rows {
		tallies[t.RoadID] = t
	}
	return rankRoads(roads, tallies), nil
}

// ScoreChanged implements Board: the database already holds the change.
func (q *SQL) ScoreChanged(context.Context, models.Merchant, string, int, int) {}

// Rebuild implements Board: there is nothing to rebuild.
func (q *SQL) Rebuild(context.Context, string) error { return nil }
