package policy

import (
	"testing"
	"time"
)

func TestScore(t *testing.T) {
	p := Default()
	tests := []struct {
		name  string
		tally Tally
		want  int
	}{
		{"no records", Tally{}, 100},
		{"deductions", Tally{Deductions: 6}, 94},
		{"deductions and bonus", Tally{Deductions: 12, Bonuses: 2}, 90},
		{"bonus at cap", Tally{Bonuses: 10}, 110},
		{"bonus beyond cap counts 10", Tally{Deductions: 20, Bonuses: 12}, 90},
		{"bonus beyond cap, low deductions, clamps at 110", Tally{Deductions: 1, Bonuses: 30}, 109},
		{"bonus beyond cap, no deductions", Tally{Bonuses: 30}, 110},
		{"exactly zero", Tally{Deductions: 100}, 0},
		{"clamps at 0", Tally{Deductions: 150}, 0},
		{"clamps at 0 despite bonus", Tally{Deductions: 150, Bonuses: 12}, 0},
		{"negative bonuses count as none", Tally{Deductions: 5, Bonuses: -3}, 95},
		{"serious count does not change the score", Tally{Deductions: 10, Serious: 1}, 90},
	}
	for _, tt := range tests {
		if got := p.Score(tt.tally); got != tt.want {
			t.Errorf("%s: Score(%+v) = %d, want %d", tt.name, tt.tally, got, tt.want)
		}
	}

	custom := Default()
	custom.BaseScore, custom.MaxScore, custom.BonusCap = 80, 100, 5
	if got, want := custom.Score(Tally{Bonuses: 12}), 85; got != want {
		t.Errorf("custom policy Score(+12) = %d, want %d", got, want)
	}
}

func TestStarAndWatch(t *testing.T) {
	p := Default()
	tests := []struct {
		score int
		star  int
		watch bool
	}{
		{110, 5, false},
		{95, 5, false},
		{94, 4, false},
		{90, 4, false},
		{89, 3, false},
		{85, 3, false},
		{84, 2, false},
		{80, 2, false},
		{79, 1, false},
		{75, 1, false},
		{74, 0, false},
		{60, 0, false},
		{59, 0, true},
		{0, 0, true},
	}
	for _, tt := range tests {
		if got := p.Star(tt.score); got != tt.star {
			t.Errorf("Star(%d) = %d, want %d", tt.score, got, tt.star)
		}
		if got := p.UnderWatch(tt.score); got != tt.watch {
			t.Errorf("UnderWatch(%d) = %v, want %v", tt.score, got, tt.watch)
		}
	}
}

func TestCapped(t *testing.T) {
	p := Default()
	dec := Cycle{2026, time.December}
	tests := []struct {
		name   string
		s      Standing
		capped bool
		rated  int
	}{
		{"serious this cycle, live tally", Standing{Cycle: dec, Current: Tally{Deductions: 10, Serious: 1}}, true, 2},
		{"serious this cycle, listed", Standing{Cycle: dec, SeriousIn: []Cycle{dec}}, true, 2},
		{"first capped month after", Standing{Cycle: dec.Add(1), Previous: &Tally{}, SeriousIn: []Cycle{dec}}, true, 2},
		{"second capped month after", Standing{Cycle: dec.Add(2), Previous: &Tally{}, SeriousIn: []Cycle{dec}}, true, 2},
		{"cap over in the fourth month", Standing{Cycle: dec.Add(3), Previous: &Tally{}, SeriousIn: []Cycle{dec}}, false, 5},
		{"serious after the rated cycle is ignored", Standing{Cycle: dec, Previous: &Tally{}, SeriousIn: []Cycle{dec.Add(1)}}, false, 5},
		{"any order, one recent", Standing{Cycle: dec, SeriousIn: []Cycle{dec.Add(-5), dec.Add(2), dec.Add(-2)}}, true, 2},
		{"all old", Standing{Cycle: dec, SeriousIn: []Cycle{dec.Add(-3), dec.Add(-12)}}, false, 5},
		{"cap does not raise a lower star", Standing{Cycle: dec, Current: Tally{Deductions: 30, Serious: 1}}, true, 0},
	}
	for _, tt := range tests {
		if got := p.Capped(tt.s); got != tt.capped {
			t.Errorf("%s: Capped = %v, want %v", tt.name, got, tt.capped)
		}
		if got := p.RatedStar(tt.s); got != tt.rated {
			t.Errorf("%s: RatedStar = %d, want %d", tt.name, got, tt.rated)
		}
	}

	// Serious in December caps December, January and February, not March, across the year.
	months := map[Cycle]bool{
		{2026, time.November}: false,
		{2026, time.December}: true,
		{2027, time.January}:  true,
		{2027, time.February}: true,
		{2027, time.March}:    false,
	}
	for c, want := range months {
		if got := p.Capped(Standing{Cycle: c, SeriousIn: []Cycle{dec}}); got != want {
			t.Errorf("serious in 2026-12: Capped(%s) = %v, want %v", c, got, want)
		}
	}

	custom := Default()
	custom.SeriousCapCycles, custom.SeriousCapStar = 1, 3
	if got := custom.Capped(Standing{Cycle: dec.Add(1), SeriousIn: []Cycle{dec}}); got {
		t.Errorf("serious_cap_cycles 1: the next cycle is capped")
	}
	if got, want := custom.RatedStar(Standing{Cycle: dec, SeriousIn: []Cycle{dec}}), 3; got != want {
		t.Errorf("serious_cap_star 3: RatedStar = %d, want %d", got, want)
	}
}

func TestRatedStar(t *testing.T) {
	p := Default()
	nov := Cycle{2026, time.November}
	tests := []struct {
		name     string
		current  Tally
		previous *Tally
		want     int
	}{
		{"new merchant, no previous term", Tally{}, nil, 5},
		{"new merchant, falls at once", Tally{Deductions: 11}, nil, 3},
		{"previous without records is base score", Tally{}, &Tally{}, 5},
		{"rises only at review", Tally{}, &Tally{Deductions: 6}, 4},
		{"falls at once", Tally{Deductions: 16}, &Tally{}, 2},
		{"the lower of both", Tally{Deductions: 21}, &Tally{Deductions: 11}, 1},
		{"previous 0 stars", Tally{Bonuses: 5}, &Tally{Deductions: 45}, 0},
		{"previous bonus counts capped", Tally{}, &Tally{Deductions: 15, Bonuses: 12}, 5},
	}
	for _, tt := range tests {
		s := Standing{Cycle: nov, Current: tt.current, Previous: tt.previous}
		if got := p.RatedStar(s); got != tt.want {
			t.Errorf("%s: RatedStar = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	p := Default()
	got := p.Evaluate(Standing{
		Cycle:    Cycle{2026, time.November},
		Current:  Tally{Deductions: 55, Bonuses: 14, Serious: 1},
		Previous: &Tally{},
	})
	want := Result{Cycle: "2026-11", Score: 55, Star: 0, RatedStar: 0, Deductions: 55, Bonuses: 14, Capped: true, UnderWatch: true}
	if got != want {
		t.Errorf("Evaluate = %+v, want %+v", got, want)
	}
}

// TestWorkedExample replays the design's worked example with fixed clock times:
// a merchant registered on 2026-10-10, its ledger, and the rated star at each step.
func TestWorkedExample(t *testing.T) {
	p := Default()
	registered := shanghai(t, 2026, time.October, 10, 9, 0, 0)

	type entry struct {
		at     time.Time
		code   string
		points int
	}
	ledger := []entry{
		{shanghai(t, 2026, time.October, 15, 10, 0, 0), "SRZJ-01", 3}, // October −6
		{shanghai(t, 2026, time.October, 15, 10, 0, 0), "ZXLH-02", 3},
		{shanghai(t, 2026, time.November, 12, 11, 0, 0), "SSWH-01", 5}, // 12 Nov −12
		{shanghai(t, 2026, time.November, 12, 11, 0, 0), "ZXLH-01", 5},
		{shanghai(t, 2026, time.November, 12, 11, 0, 0), "HJWS-01", 2},
		{shanghai(t, 2026, time.November, 20, 15, 0, 0), "BONUS-01", 2}, // 20 Nov +2
		{shanghai(t, 2026, time.December, 5, 14, 0, 0), "ZXLH-05", 10},  // 5 Dec serious −10
	}
	for _, e := range ledger {
		if err := p.CheckRecordTime(e.at, e.at); err != nil {
			t.Fatalf("CheckRecordTime(%s) = %v", e.at, err)
		}
	}

	// tally sums the ledger entries of cycle c written up to now.
	tally := func(c Cycle, now time.Time) Tally {
		var out Tally
		for _, e := range ledger {
			if e.at.After(now) || p.CycleOf(e.at) != c {
				continue
			}
			it, ok := p.Item(e.code)
			if !ok {
				t.Fatalf("unknown item %s", e.code)
			}
			if e.points < it.MinPoints || e.points > it.MaxPoints {
				t.Fatalf("%s: %d points outside %d..%d", e.code, e.points, it.MinPoints, it.MaxPoints)
			}
			switch it.Kind {
			case Deduction:
				out.Deductions += e.points
			case Bonus:
				out.Bonuses += e.points
			}
			if it.Serious {
				out.Serious++
			}
		}
		return out
	}
	standing := func(now time.Time) Standing {
		c := p.CycleOf(now)
		s := Standing{Cycle: c, Current: tally(c, now)}
		if p.CycleOf(registered) != c {
			prev := tally(c.Prev(), now)
			s.Previous = &prev
		}
		seen := map[Cycle]bool{}
		for _, e := range ledger {
			if it, _ := p.Item(e.code); it.Serious && !e.at.After(now) && !seen[p.CycleOf(e.at)] {
				seen[p.CycleOf(e.at)] = true
				s.SeriousIn = append(s.SeriousIn, p.CycleOf(e.at))
			}
		}
		return s
	}

	tests := []struct {
		step   string
		now    time.Time
		score  int
		star   int
		rated  int
		capped bool
	}{
		{"October: −6 → 94 (4★), no previous cycle", shanghai(t, 2026, time.October, 31, 23, 59, 59), 94, 4, 4, false},
		{"1 Nov: live 100 but previous 4★", shanghai(t, 2026, time.November, 1, 0, 0, 0), 100, 5, 4, false},
		{"12 Nov: −12 → live 88 (3★)", shanghai(t, 2026, time.November, 12, 11, 0, 0), 88, 3, 3, false},
		{"20 Nov: bonus +2 → 90 (4★)", shanghai(t, 2026, time.November, 20, 15, 0, 0), 90, 4, 4, false},
		{"1 Dec: previous final 90 (4★)", shanghai(t, 2026, time.December, 1, 8, 0, 0), 100, 5, 4, false},
		{"5 Dec: ZXLH-05 −10 → live 90, cap 2★", shanghai(t, 2026, time.December, 5, 14, 0, 0), 90, 4, 2, true},
		{"January stays capped", shanghai(t, 2027, time.January, 15, 12, 0, 0), 100, 5, 2, true},
		{"February stays capped", shanghai(t, 2027, time.February, 28, 23, 59, 59), 100, 5, 2, true},
		{"March: the cap is gone", shanghai(t, 2027, time.March, 1, 0, 0, 0), 100, 5, 5, false},
	}
	for _, tt := range tests {
		got := p.Evaluate(standing(tt.now))
		if got.Score != tt.score || got.Star != tt.star || got.RatedStar != tt.rated || got.Capped != tt.capped {
			t.Errorf("%s: score %d star %d rated %d capped %v; want %d %d %d %v",
				tt.step, got.Score, got.Star, got.RatedStar, got.Capped, tt.score, tt.star, tt.rated, tt.capped)
		}
	}
}
