package policy

// Term names one of the three terms of the rated star.
type Term string

// The terms of RatedStar: the live score of the cycle, the final score of the
// previous cycle (the monthly review) and a serious-item cap.
const (
	TermLive     Term = "live"
	TermPrevious Term = "previous"
	TermCap      Term = "cap"
)

// Outlook explains a rated star to the merchant: what each term allows, which
// of them hold the star where it is, and what the next star needs. It is the
// answer to "how do I get my star back" and says nothing RatedStar does not.
type Outlook struct {
	RatedStar int
	LiveScore int
	LiveStar  int

	HasPrevious   bool // false for a merchant registered during the cycle
	PreviousScore int
	PreviousStar  int

	Capped  bool
	CapStar int
	CapLast Cycle // the last cycle the cap holds (when Capped)

	// Holding lists the terms that allow no more than the rated star, in the
	// order live, previous, cap; empty at the top star.
	Holding []Term
	// NextStar is RatedStar+1, 0 at the top star.
	NextStar int
	// PointsToNext is how many points the live score still needs for
	// NextStar (0 when the live term already allows it).
	PointsToNext int
	// Review is the next monthly review: the cycle after s.Cycle, from
	// whose first day this cycle's final score is the previous-cycle term.
	Review Cycle
}

// Explain evaluates the outlook of a standing.
func (p *Policy) Explain(s Standing) Outlook {
	o := Outlook{RatedStar: p.RatedStar(s), LiveScore: p.Score(s.Current), Review: s.Cycle.Next()}
	o.LiveStar = p.Star(o.LiveScore)
	if s.Previous != nil {
		o.HasPrevious = true
		o.PreviousScore = p.Score(*s.Previous)
		o.PreviousStar = p.Star(o.PreviousScore)
	}
	if p.Capped(s) {
		o.Capped, o.CapStar = true, p.SeriousCapStar
		serious := s.SeriousIn
		if s.Current.Serious > 0 {
			serious = append([]Cycle{s.Cycle}, serious...)
		}
		for _, c := range serious {
			d := s.Cycle.Index() - c.Index()
			if d < 0 || d >= p.SeriousCapCycles || s.repaired(c) {
				continue
			}
			if last := c.Add(p.SeriousCapCycles - 1); last.Index() > o.CapLast.Index() || o.CapLast == (Cycle{}) {
				o.CapLast = last
			}
		}
	}
	top := len(p.StarThresholds)
	if o.RatedStar >= top {
		return o
	}
	if o.LiveStar <= o.RatedStar {
		o.Holding = append(o.Holding, TermLive)
	}
	if o.HasPrevious && o.PreviousStar <= o.RatedStar {
		o.Holding = append(o.Holding, TermPrevious)
	}
	if o.Capped && o.CapStar <= o.RatedStar {
		o.Holding = append(o.Holding, TermCap)
	}
	o.NextStar = o.RatedStar + 1
	o.PointsToNext = max(0, p.StarThresholds[top-o.NextStar]-o.LiveScore)
	return o
}
