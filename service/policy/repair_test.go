package policy

import (
	"strings"
	"testing"
	"time"
)

// TestRepairPolicy: the repair keys are read from a file, default to one
// cycle and 10 working days, and out-of-range values are refused.
func TestRepairPolicy(t *testing.T) {
	p, err := Parse([]byte("repair_min_cycles: 2\nrepair_decision_days: 5\n"), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.RepairMinCycles != 2 || p.RepairDecisionDays != 5 {
		t.Errorf("parsed %d cycles, %d days; want 2 and 5", p.RepairMinCycles, p.RepairDecisionDays)
	}
	if d := Default(); d.RepairMinCycles != 1 || d.RepairDecisionDays != 10 {
		t.Errorf("defaults %d cycles, %d days; want 1 and 10", d.RepairMinCycles, d.RepairDecisionDays)
	}
	for _, tt := range []struct {
		name   string
		change func(p *Policy)
		want   string
	}{
		{"min 2 of a 3-cycle cap", func(p *Policy) { p.RepairMinCycles = 2 }, ""},
		{"min 0", func(p *Policy) { p.RepairMinCycles = 0 }, "repair_min_cycles 0 is outside 1..2"},
		{"min as long as the cap", func(p *Policy) { p.RepairMinCycles = 3 }, "repair_min_cycles 3 is outside 1..2"},
		{"min 1 of a one-cycle cap", func(p *Policy) { p.SeriousCapCycles = 1 }, ""},
		{"days 60", func(p *Policy) { p.RepairDecisionDays = 60 }, ""},
		{"days 0", func(p *Policy) { p.RepairDecisionDays = 0 }, "repair_decision_days 0 is outside 1..60"},
		{"days 61", func(p *Policy) { p.RepairDecisionDays = 61 }, "repair_decision_days 61"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			tt.change(p)
			err := p.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestRepairDates: the application opens when the serious item's cycle
// (and RepairMinCycles-1 more) left its grace period, and the decision is
// due at the end of the 10th working day, weekends skipped.
func TestRepairDates(t *testing.T) {
	p := Default()
	sh := p.Location()
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, sh).UTC() }
	if got, want := p.RepairOpens(Cycle{2026, time.December}), at(2027, time.January, 4, 0); !got.Equal(want) {
		t.Errorf("RepairOpens(2026-12) = %s, want %s", got, want)
	}
	p.RepairMinCycles = 2
	if got, want := p.RepairOpens(Cycle{2026, time.December}), at(2027, time.February, 4, 0); !got.Equal(want) {
		t.Errorf("RepairOpens(2026-12) with 2 cycles = %s, want %s", got, want)
	}
	for _, tt := range []struct {
		name     string
		from     time.Time
		days     int
		wantDate time.Time
	}{
		// Monday 4 January 2027, 9:00: ten working days are 5–8, 11–15, 18 January.
		{"a Monday", at(2027, time.January, 4, 9), 10, at(2027, time.January, 19, 0)},
		// Friday 8 January 23:00 Shanghai (15:00 UTC): the count starts on Monday 11th.
		{"a Friday night", at(2027, time.January, 8, 23), 1, at(2027, time.January, 12, 0)},
		{"a Saturday", at(2027, time.January, 9, 10), 1, at(2027, time.January, 12, 0)},
		{"a Sunday, five days", at(2027, time.January, 10, 10), 5, at(2027, time.January, 16, 0)},
	} {
		if got := WorkingDaysAfter(tt.from, tt.days, sh); !got.Equal(tt.wantDate) {
			t.Errorf("%s: WorkingDaysAfter(%s, %d) = %s, want %s", tt.name, tt.from.In(sh), tt.days, got.In(sh), tt.wantDate.In(sh))
		}
	}
	if got, want := Default().RepairDecisionDue(at(2027, time.January, 4, 9)), at(2027, time.January, 19, 0); !got.Equal(want) {
		t.Errorf("RepairDecisionDue = %s, want %s", got.In(sh), want.In(sh))
	}
}

// TestRepairLiftsCap: a repair through cycle R lifts the caps of serious
// items of R and earlier, never of later ones, and leaves the other terms.
func TestRepairLiftsCap(t *testing.T) {
	p := Default()
	dec, jan, feb := Cycle{2026, time.December}, Cycle{2027, time.January}, Cycle{2027, time.February}
	clean := Tally{}
	for _, tt := range []struct {
		name     string
		st       Standing
		wantStar int
		capped   bool
	}{
		{"capped by December in January", Standing{Cycle: jan, Previous: &Tally{Deductions: 10, Serious: 1}, SeriousIn: []Cycle{dec}}, 4, true},
		{"repaired through December", Standing{Cycle: jan, Previous: &Tally{Deductions: 10, Serious: 1}, SeriousIn: []Cycle{dec}, RepairedThrough: dec}, 4, false},
		{"the repair keeps the previous term", Standing{Cycle: jan, Current: clean, Previous: &Tally{Deductions: 12, Serious: 1}, SeriousIn: []Cycle{dec}, RepairedThrough: dec}, 3, false},
		{"a later serious item caps again", Standing{Cycle: feb, Current: Tally{Deductions: 10, Serious: 1}, Previous: &clean, SeriousIn: []Cycle{dec, feb}, RepairedThrough: dec}, 4, true},
		{"a serious item of January after a December repair", Standing{Cycle: feb, Previous: &Tally{Deductions: 10, Serious: 1}, SeriousIn: []Cycle{dec, jan}, RepairedThrough: dec}, 4, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Evaluate(tt.st)
			want := tt.wantStar
			if tt.capped {
				want = min(want, p.SeriousCapStar)
			}
			if r.Capped != tt.capped || r.RatedStar != want {
				t.Errorf("capped %v, rated %d★; want %v, %d★", r.Capped, r.RatedStar, tt.capped, want)
			}
			if o := p.Explain(tt.st); o.Capped != tt.capped {
				t.Errorf("Explain: capped %v, want %v", o.Capped, tt.capped)
			}
		})
	}
}
