package service

import (
	"context"

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

// standingFrom builds the policy input for merchant m in cycle c from its score rows.
func (s *Service) standingFrom(m models.Merchant, c policy.Cycle, rows []models.Score) policy.Standing {
	st := policy.Standing{Cycle: c}
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
	byMerchant := map[int64][]models.Score{}
	for _, r := range rows {
		byMerchant[r.MerchantID] = append(byMerchant[r.MerchantID], r)
	}
	for _, m := range ms {
		out[m.ID] = s.policy.Evaluate(s.standingFrom(m, c, byMerchant[m.ID]))
	}
	return out, nil
}

// CurrentScores returns the live standing of each merchant in the current cycle.
func (s *Service) CurrentScores(ctx context.Context, ms []models.Merchant) (map[int64]policy.Result, error) {
	return s.standings(ctx, ms, s.policy.CycleOf(s.now()))
}

// CurrentCycle names the cycle now in progress.
func (s *Service) CurrentCycle() string { return s.policy.CycleOf(s.now()).String() }
