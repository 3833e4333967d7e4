package service

import (
	"context"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// historyCycles lists the cycles whose rows decide the rated star of cycle c:
// c itself, the previous cycle, and as many as the serious-item cap reaches back.
func (s *Service) historyCycles(c policy.Cycle) []string {
	n := s.policy.SeriousCapCycles
	if n < 2 {
		n = 2
	}
	out := make([]string, n)
	for i := range out {
		out[i] = c.Add(-i).String()
	}
	return out
}

// standingFrom builds the policy input for merchant m in cycle c from its
// score rows and its granted credit repairs (repairsFor; nil when its rows
// hold no serious item).
func (s *Service) standingFrom(m models.Merchant, c policy.Cycle, rows []models.Score, reps []models.Repair) policy.Standing {
	st := policy.Standing{Cycle: c, RepairedThrough: s.repairedThrough(reps, c)}
	prev := c.Prev().String()
	hasPrev := s.policy.CycleOf(m.CreatedAt).Before(c)
	if hasPrev {
		st.Previous = &policy.Tally{}
	}
	for _, r := range rows {
		t := policy.Tally{Deductions: r.Deductions, Bonuses: r.Bonuses, Serious: r.Serious}
		switch r.Cycle {
		case c.String():
			st.Current = t
		case prev:
			if hasPrev {
				*st.Previous = t
			}
		}
		if r.Serious > 0 {
			if rc, err := policy.ParseCycle(r.Cycle); err == nil {
				st.SeriousIn = append(st.SeriousIn, rc)
			}
		}
	}
	return st
}

// standings evaluates many merchants' standings in cycle c with one query.
func (s *Service) standings(ctx context.Context, ms []models.Merchant, c policy.Cycle) (map[int64]policy.Result, error) {
	out := make(map[int64]policy.Result, len(ms))
	if len(ms) == 0 {
		return out, nil
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	rows, err := s.db.ScoresOf(ctx, ids, s.historyCycles(c))
	if err != nil {
		return nil, err
	}
	scores := byMerchant(rows)
	reps, err := s.repairsFor(ctx, scores)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		out[m.ID] = s.policy.Evaluate(s.standingFrom(m, c, scores[m.ID], reps[m.ID]))
	}
	return out, nil
}

// CurrentScores returns the live standing of each merchant in the current cycle.
func (s *Service) CurrentScores(ctx context.Context, ms []models.Merchant) (map[int64]policy.Result, error) {
	return s.standings(ctx, ms, s.policy.CycleOf(s.now()))
}

// CurrentCycle names the cycle now in progress.
func (s *Service) CurrentCycle() string { return s.policy.CycleOf(s.now()).String() }

// MerchantOutlook explains a merchant's rated star now: each term, which hold
// it down, and what the next star needs (whoever may see the merchant).
func (s *Service) MerchantOutlook(ctx context.Context, a Actor, id int64) (policy.Outlook, policy.Result, error) {
	m, err := s.Merchant(ctx, a, id)
	if err != nil {
		return policy.Outlook{}, policy.Result{}, err
	}
	c := s.policy.CycleOf(s.now())
	rows, err := s.db.ScoresOf(ctx, []int64{m.ID}, s.historyCycles(c))
	if err != nil {
		return policy.Outlook{}, policy.Result{}, err
	}
	reps, err := s.repairsOfRows(ctx, m.ID, rows)
	if err != nil {
		return policy.Outlook{}, policy.Result{}, err
	}
	st := s.standingFrom(m, c, rows, reps)
	return s.policy.Explain(st), s.policy.Evaluate(st), nil
}

// CycleScore is a merchant's score of one cycle: final for an ended cycle,
// live for the current one.
type CycleScore struct {
	Cycle policy.Cycle
	Score int
	Star  int
}

// ScoreHistory returns a merchant's scores of the last n cycles up to the
// current one, oldest first, from the cycle it was registered in (whoever
// may see the merchant). A cycle without records has the base score.
func (s *Service) ScoreHistory(ctx context.Context, a Actor, id int64, n int) ([]CycleScore, error) {
	m, err := s.Merchant(ctx, a, id)
	if err != nil {
		return nil, err
	}
	cur := s.policy.CycleOf(s.now())
	first := s.policy.CycleOf(m.CreatedAt)
	var cycles []string
	for i := n - 1; i >= 0; i-- {
		if c := cur.Add(-i); !c.Before(first) {
			cycles = append(cycles, c.String())
		}
	}
	rows, err := s.db.ScoresOf(ctx, []int64{m.ID}, cycles)
	if err != nil {
		return nil, err
	}
	tally := map[string]policy.Tally{}
	for _, r := range rows {
		tally[r.Cycle] = policy.Tally{Deductions: r.Deductions, Bonuses: r.Bonuses, Serious: r.Serious}
	}
	out := make([]CycleScore, 0, len(cycles))
	for _, name := range cycles {
		c, _ := policy.ParseCycle(name)
		score := s.policy.Score(tally[name])
		out = append(out, CycleScore{Cycle: c, Score: score, Star: s.policy.Star(score)})
	}
	return out, nil
}

// MerchantFile is a merchant with the names of its road and county.
type MerchantFile struct {
	models.Merchant
	RoadName, CountyName string
}

// MerchantFileOf returns a merchant's file (whoever may see the merchant).
func (s *Service) MerchantFileOf(ctx context.Context, a Actor, id int64) (MerchantFile, error) {
	m, err := s.Merchant(ctx, a, id)
	if err != nil {
		return MerchantFile{}, err
	}
	pm, err := s.db.PublicMerchantByCode(ctx, m.Code)
	if err != nil {
		return MerchantFile{}, storeErr(err, "商户")
	}
	return MerchantFile{Merchant: m, RoadName: pm.RoadName, CountyName: pm.CountyName}, nil
}

// Now is the service's clock (injected in tests), in UTC.
func (s *Service) Now() time.Time { return s.now() }

// AppealDeadline is the last moment a deduction can be appealed: AppealWindow
// after it was recorded, and no later than its cycle's closing.
func (s *Service) AppealDeadline(e models.LedgerEntry) time.Time {
	end := e.CreatedAt.Add(AppealWindow)
	if c, err := policy.ParseCycle(e.Cycle); err == nil {
		if g := s.policy.GraceEnd(c); g.Before(end) {
			end = g
		}
	}
	return end
}
