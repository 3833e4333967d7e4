package policy

import "time"

// PublicUntil is when a ledger entry that occurred at t leaves the public
// plaque page: the start of the same day PublicHistoryMonths months later,
// in the policy's timezone, so it is shown through the day before. Where
// that month has no such day (30 November + 3 months), it leaves on the
// first of the month after: an entry is never public for longer than the
// months. With 0 months it is never public (t itself).
func (p *Policy) PublicUntil(t time.Time) time.Time {
	if p.PublicHistoryMonths <= 0 {
		return t
	}
	loc := p.Location()
	y, m, d := t.In(loc).Date()
	first := time.Date(y, m+time.Month(p.PublicHistoryMonths), 1, 0, 0, 0, 0, loc) // normalised past December
	if d > first.AddDate(0, 1, -1).Day() {
		return first.AddDate(0, 1, 0)
	}
	return first.AddDate(0, 0, d-1)
}

// PublicCycles are the cycles whose entries may still be public at now: the
// current one and the PublicHistoryMonths before it, oldest first (an entry
// of an earlier cycle left by the start of this one). None with 0 months.
func (p *Policy) PublicCycles(now time.Time) []Cycle {
	cur := p.CycleOf(now)
	out := make([]Cycle, 0, p.PublicHistoryMonths+1)
	for i := p.PublicHistoryMonths; i >= 0 && p.PublicHistoryMonths > 0; i-- {
		out = append(out, cur.Add(-i))
	}
	return out
}
