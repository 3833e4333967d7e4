package policy

import "time"

// MaxRepairDecisionDays bounds repair_decision_days (three months of working days).
const MaxRepairDecisionDays = 60

// RepairOpens is when a merchant may first apply for the credit repair (信用修复)
// of a serious item recorded in cycle c: once RepairMinCycles cycles,
// starting with c, have ended and left their grace period (IsClosed), so that
// no record can enter the cycles a repair covers any more.
func (p *Policy) RepairOpens(c Cycle) time.Time {
	return p.GraceEnd(c.Add(max(p.RepairMinCycles, 1) - 1))
}

// RepairDecisionDue is the deadline of a repair application filed at t: the
// end of the RepairDecisionDays-th working day after the day of t, working
// days being Monday to Friday in the policy's timezone (public holidays are
// not known to the policy and count as working days).
func (p *Policy) RepairDecisionDue(t time.Time) time.Time {
	return WorkingDaysAfter(t, p.RepairDecisionDays, p.Location())
}

// WorkingDaysAfter returns midnight (in loc) after the n-th working day
// (Monday to Friday) that follows the day of t; n ≤ 0 is the end of t's day.
func WorkingDaysAfter(t time.Time, n int, loc *time.Location) time.Time {
	l := t.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return day.AddDate(0, 0, 1).UTC()
}
