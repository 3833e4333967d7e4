package policy

import (
	"errors"
	"fmt"
	"time"
)

// Cycle is a scoring cycle: one calendar month in the policy's timezone.
type Cycle struct {
	Year  int
	Month time.Month
}

// ParseCycle reads a cycle written as "2026-11"; the month needs two digits.
func ParseCycle(s string) (Cycle, error) {
	if len(s) != 7 || s[4] != '-' {
		return Cycle{}, fmt.Errorf("bad cycle %q: want YYYY-MM", s)
	}
	year, ok1 := digits(s[:4])
	month, ok2 := digits(s[5:])
	if !ok1 || !ok2 {
		return Cycle{}, fmt.Errorf("bad cycle %q: want YYYY-MM", s)
	}
	if year < 1 {
		return Cycle{}, fmt.Errorf("bad cycle %q: year must be 0001 or later", s)
	}
	if month < 1 || month > 12 {
		return Cycle{}, fmt.Errorf("bad cycle %q: month must be 01..12", s)
	}
	return Cycle{Year: year, Month: time.Month(month)}, nil
}

// digits parses ASCII digits only; strconv.Atoi would accept signs like "+1".
func digits(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, s != ""
}

// CycleFromIndex is the inverse of Cycle.Index.
func CycleFromIndex(i int) Cycle {
	year, month := i/12, i%12
	if month < 0 { // floor division, so negative indexes still give months 1..12
		year, month = year-1, month+12
	}
	return Cycle{Year: year, Month: time.Month(month + 1)}
}

// String writes the cycle as "2026-11".
func (c Cycle) String() string {
	if c.Year < 0 || c.Year > 9999 || c.Month < 1 || c.Month > 12 {
		return fmt.Sprintf("%04d-%02d", c.Year, int(c.Month))
	}
	// Without fmt: a cycle is formatted on every plaque scan and every key.
	y, m := c.Year, int(c.Month)
	b := [7]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-', byte('0' + m/10), byte('0' + m%10)}
	return string(b[:])
}

// MarshalText writes the cycle as "2026-11", so cycles work as JSON values and map keys.
func (c Cycle) MarshalText() ([]byte, error) {
	return []byte(c.String()), nil
}

// UnmarshalText reads a cycle written as "2026-11".
func (c *Cycle) UnmarshalText(text []byte) error {
	v, err := ParseCycle(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Index numbers cycles consecutively (Year*12 + Month - 1), so the distance
// between two cycles is the difference of their indexes.
func (c Cycle) Index() int {
	return c.Year*12 + int(c.Month) - 1
}

// Add returns the cycle n months later (earlier when n is negative).
func (c Cycle) Add(n int) Cycle {
	return CycleFromIndex(c.Index() + n)
}

// Next returns the following month.
func (c Cycle) Next() Cycle { return c.Add(1) }

// Prev returns the preceding month.
func (c Cycle) Prev() Cycle { return c.Add(-1) }

// Before reports whether c is an earlier month than o.
func (c Cycle) Before(o Cycle) bool { return c.Index() < o.Index() }

// CycleOf returns the cycle of the instant t, judged by the wall clock in the
// policy's timezone: 2026-10-31T16:00:00Z is already November in Shanghai.
func (p *Policy) CycleOf(t time.Time) Cycle {
	local := t.In(p.Location())
	return Cycle{Year: local.Year(), Month: local.Month()}
}

// CycleStart returns the instant the cycle begins (00:00 on the 1st in the
// policy's timezone), in UTC.
func (p *Policy) CycleStart(c Cycle) time.Time {
	return time.Date(c.Year, c.Month, 1, 0, 0, 0, 0, p.Location()).UTC()
}

// GraceEnd returns the instant after which records for the cycle are refused:
// GraceDays calendar days after the next cycle starts, in UTC.
func (p *Policy) GraceEnd(c Cycle) time.Time {
	n := c.Next()
	// Calendar days in the zone, not 24h multiples, so a zone with daylight
	// saving still closes at local midnight.
	return time.Date(n.Year, n.Month, 1+p.GraceDays, 0, 0, 0, 0, p.Location()).UTC()
}

// IsClosed reports whether the grace period of the cycle is over at now.
func (p *Policy) IsClosed(c Cycle, now time.Time) bool {
	return !now.Before(p.GraceEnd(c))
}

// Errors of CheckRecordTime; httpapi maps ErrFutureTime to 400 and ErrCycleClosed to 409 cycle_closed.
var (
	ErrFutureTime  = errors.New("inspected_at is in the future")
	ErrCycleClosed = errors.New("the cycle is closed")
)

// CheckRecordTime decides whether a record inspected at "at" may be written at
// "now". It returns ErrFutureTime when at is more than FutureSkew ahead of now
// (officers' phones drift, a little skew is forgiven), ErrCycleClosed when
// the grace period of at's cycle is over, and nil otherwise.
func (p *Policy) CheckRecordTime(now, at time.Time) error {
	if at.After(now.Add(p.FutureSkew.Duration)) {
		return ErrFutureTime
	}
	if p.IsClosed(p.CycleOf(at), now) {
		return ErrCycleClosed
	}
	return nil
}
