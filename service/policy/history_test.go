package policy

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPublicUntil: an entry leaves the plaque page at the start of the same
// day N months later (Shanghai time), or on the first of the next month when
// that month is too short; with 0 months it is never public.
func TestPublicUntil(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, sh) }
	for _, tt := range []struct {
		name   string
		months int
		t      time.Time
		want   time.Time
	}{
		{"mid-month", 3, at(2026, 8, 5, 10), at(2026, 11, 5, 0)},
		{"across the year", 3, at(2026, 11, 15, 23), at(2027, 2, 15, 0)},
		{"short month", 3, at(2026, 11, 30, 9), at(2027, 3, 1, 0)},
		{"31st into a 30-day month", 4, at(2026, 5, 31, 9), at(2026, 10, 1, 0)},
		{"31st into a 31-day month", 3, at(2026, 5, 31, 9), at(2026, 8, 31, 0)},
		{"leap February 29th", 1, at(2028, 1, 29, 9), at(2028, 2, 29, 0)},
		{"one month", 1, at(2026, 12, 31, 0), at(2027, 1, 31, 0)},
		{"two months into February", 2, at(2026, 12, 31, 0), at(2027, 3, 1, 0)},
		// 1 November 00:30 Shanghai is still 31 October in UTC: the day is Shanghai's.
		{"Shanghai's day, not UTC's", 3, at(2026, 11, 1, 0).Add(30 * time.Minute), at(2027, 2, 1, 0)},
		{"12 months", 12, at(2026, 2, 28, 12), at(2027, 2, 28, 0)},
		{"none", 0, at(2026, 8, 5, 10), at(2026, 8, 5, 10)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			p.PublicHistoryMonths = tt.months
			if got := p.PublicUntil(tt.t.UTC()); !got.Equal(tt.want) {
				t.Errorf("PublicUntil(%s) with %d months = %s, want %s", tt.t, tt.months, got.In(sh), tt.want)
			}
		})
	}
}

// TestPublicCycles: the current cycle and the N before it hold every entry
// still public, and no entry of an earlier cycle is public.
func TestPublicCycles(t *testing.T) {
	p := Default()
	sh := p.Location()
	now := time.Date(2027, 1, 31, 23, 0, 0, 0, sh)
	got := p.PublicCycles(now)
	want := []Cycle{{2026, 10}, {2026, 11}, {2026, 12}, {2027, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("PublicCycles(%s) = %v, want %v", now, got, want)
	}
	// The last instant of the cycle before them has left by the start of the current cycle.
	last := p.CycleStart(Cycle{2026, 10}).Add(-time.Millisecond)
	if until := p.PublicUntil(last); until.After(p.CycleStart(Cycle{2027, 1})) {
		t.Errorf("an entry of September (%s) is public until %s, after January began", last, until)
	}
	p.PublicHistoryMonths = 0
	if got := p.PublicCycles(now); len(got) != 0 {
		t.Errorf("PublicCycles with 0 months = %v, want none", got)
	}
}

// TestPublicHistoryMonths: the key is read from a file, defaults to 3 (the
// rules' limit for minor breaches) and is refused out of 0..36.
func TestPublicHistoryMonths(t *testing.T) {
	if d := Default(); d.PublicHistoryMonths != 3 {
		t.Errorf("default public_history_months = %d, want 3", d.PublicHistoryMonths)
	}
	p, err := Parse([]byte("public_history_months: 0\n"), "yaml")
	if err != nil || p.PublicHistoryMonths != 0 {
		t.Errorf("Parse(public_history_months: 0) = %v, %v; want 0 months", p, err)
	}
	p, err = Parse([]byte(`{"public_history_months": 6}`), "json")
	if err != nil || p.PublicHistoryMonths != 6 {
		t.Errorf("Parse(json 6) = %v, %v; want 6 months", p, err)
	}
	for _, tt := range []struct {
		months int
		want   string
	}{{-1, "public_history_months -1 is outside 0..36"}, {37, "public_history_months 37"}, {36, ""}} {
		p := Default()
		p.PublicHistoryMonths = tt.months
		err := p.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%d months: Validate() = %v, want nil", tt.months, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%d months: Validate() = %v, want it to mention %q", tt.months, err, tt.want)
		}
	}
}
