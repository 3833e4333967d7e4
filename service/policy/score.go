package policy

// Tally sums one merchant's ledger for one cycle, after reversals: the net
// deduction and bonus magnitudes (both positive) and the number of serious items.
type Tally struct {
	Deductions int
	Bonuses    int
	Serious    int
}

// Score returns clamp(BaseScore - Deductions + min(Bonuses, BonusCap), MinScore, MaxScore).
// Negative bonuses count as none: a reversal can cancel a bonus but not become a deduction.
func (p *Policy) Score(t Tally) int {
	bonus := min(max(t.Bonuses, 0), p.BonusCap)
	return min(max(p.BaseScore-t.Deductions+bonus, p.MinScore), p.MaxScore)
}

// Star returns the stars (0..5) a score earns.
func (p *Policy) Star(score int) int {
	for i, threshold := range p.StarThresholds {
		if score >= threshold {
			return len(p.StarThresholds) - i
		}
	}
	return 0
}

// UnderWatch reports whether a score puts the merchant under 重点监管.
func (p *Policy) UnderWatch(score int) bool {
	return score < p.WatchBelow
}

// Standing is what the rated star of one merchant in one cycle depends on.
type Standing struct {
	Cycle   Cycle // the cycle being rated
	Current Tally // live tally of Cycle
	// Previous is the final tally of Cycle.Prev(). It is nil when the merchant
	// was registered during Cycle, and &Tally{} when the previous cycle had no records.
	Previous *Tally
	// SeriousIn lists the cycles with net serious items, in any order; cycles
	// after Cycle are ignored, so callers may pass the merchant's whole history.
	SeriousIn []Cycle
	// RepairedThrough is the newest cycle covered by a credit repair (信用修复)
	// granted before the evaluation: serious items of that cycle and earlier
	// no longer cap the star. The zero Cycle: none.
	RepairedThrough Cycle
}

// Result is the evaluated standing of a merchant in a cycle.
type Result struct {
	Cycle      string `json:"cycle"`
	Score      int    `json:"score"`       // live score of the cycle
	Star       int    `json:"star"`        // star of the live score alone
	RatedStar  int    `json:"rated_star"`  // the displayed star
	Deductions int    `json:"deductions"`  // net deductions of the cycle, as tallied
	Bonuses    int    `json:"bonuses"`     // net bonuses of the cycle before the cap
	Capped     bool   `json:"capped"`      // a serious-item cap is active
	UnderWatch bool   `json:"under_watch"` // 重点监管
}

// Capped reports whether a serious-item cap applies in s.Cycle: a serious item
// caps its own cycle and the next SeriousCapCycles-1 cycles.
func (p *Policy) Capped(s Standing) bool {
	if s.Current.Serious > 0 && !s.repaired(s.Cycle) {
		return true
	}
	for _, c := range s.SeriousIn {
		if d := s.Cycle.Index() - c.Index(); d >= 0 && d < p.SeriousCapCycles && !s.repaired(c) {
			return true
		}
	}
	return false
}

// repaired tells whether a granted repair covers the serious items of cycle c.
func (s Standing) repaired(c Cycle) bool {
	return s.RepairedThrough != (Cycle{}) && c.Index() <= s.RepairedThrough.Index()
}

// RatedStar returns the displayed star. Stars fall at once (the live score of
// the current cycle counts immediately) but rise only at the monthly review
// (the previous cycle's final score also bounds them), and active caps apply.
func (p *Policy) RatedStar(s Standing) int {
	star := p.Star(p.Score(s.Current))
	if s.Previous != nil {
		star = min(star, p.Star(p.Score(*s.Previous)))
	}
	if p.Capped(s) {
		star = min(star, p.SeriousCapStar)
	}
	return star
}

// Evaluate computes the score, stars and flags of a standing.
func (p *Policy) Evaluate(s Standing) Result {
	score := p.Score(s.Current)
	return Result{
		Cycle:      s.Cycle.String(),
		Score:      score,
		Star:       p.Star(score),
		RatedStar:  p.RatedStar(s),
		Deductions: s.Current.Deductions,
		Bonuses:    s.Current.Bonuses,
		Capped:     p.Capped(s),
		UnderWatch: p.UnderWatch(score),
	}
}
