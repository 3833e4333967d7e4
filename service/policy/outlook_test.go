package policy

import (
	"reflect"
	"slices"
	"testing"
)

func TestExplain(t *testing.T) {
	p := Default()
	dec, nov, oct := Cycle{2026, 12}, Cycle{2026, 11}, Cycle{2026, 10}
	tests := []struct {
		name string
		s    Standing
		want Outlook
	}{
		{"top star holds nothing", Standing{Cycle: dec, Previous: &Tally{}},
			Outlook{RatedStar: 5, LiveScore: 100, LiveStar: 5, HasPrevious: true, PreviousScore: 100, PreviousStar: 5, Review: Cycle{2027, 1}}},
		// The design's worked example, 1 Nov: live 100 but October's final 94 holds 4★.
		{"previous month holds", Standing{Cycle: nov, Current: Tally{}, Previous: &Tally{Deductions: 6}},
			Outlook{RatedStar: 4, LiveScore: 100, LiveStar: 5, HasPrevious: true, PreviousScore: 94, PreviousStar: 4,
				Holding: []Term{TermPrevious}, NextStar: 5, PointsToNext: 0, Review: dec}},
		// 12 Nov: −12 → live 88 (3★), October 4★: the live score holds; 90 needs 2 more.
		{"live score holds", Standing{Cycle: nov, Current: Tally{Deductions: 12}, Previous: &Tally{Deductions: 6}},
			Outlook{RatedStar: 3, LiveScore: 88, LiveStar: 3, HasPrevious: true, PreviousScore: 94, PreviousStar: 4,
				Holding: []Term{TermLive}, NextStar: 4, PointsToNext: 2, Review: dec}},
		// 5 Dec: ZXLH-05 −10 → live 90 but the cap holds 2★ through February.
		{"cap holds", Standing{Cycle: dec, Current: Tally{Deductions: 10, Serious: 1}, Previous: &Tally{Deductions: 12, Bonuses: 2}},
			Outlook{RatedStar: 2, LiveScore: 90, LiveStar: 4, HasPrevious: true, PreviousScore: 90, PreviousStar: 4,
				Capped: true, CapStar: 2, CapLast: Cycle{2027, 2}, Holding: []Term{TermCap}, NextStar: 3, Review: Cycle{2027, 1}}},
		{"cap from an earlier month", Standing{Cycle: dec, Previous: &Tally{}, SeriousIn: []Cycle{oct}},
			Outlook{RatedStar: 2, LiveScore: 100, LiveStar: 5, HasPrevious: true, PreviousScore: 100, PreviousStar: 5,
				Capped: true, CapStar: 2, CapLast: dec, Holding: []Term{TermCap}, NextStar: 3, Review: Cycle{2027, 1}}},
		{"registered this month, several terms", Standing{Cycle: dec, Current: Tally{Deductions: 30, Serious: 1}},
			Outlook{RatedStar: 0, LiveScore: 70, LiveStar: 0, Capped: true, CapStar: 2, CapLast: Cycle{2027, 2},
				Holding: []Term{TermLive}, NextStar: 1, PointsToNext: 5, Review: Cycle{2027, 1}}},
		{"live and previous both hold", Standing{Cycle: dec, Current: Tally{Deductions: 12}, Previous: &Tally{Deductions: 14}},
			Outlook{RatedStar: 3, LiveScore: 88, LiveStar: 3, HasPrevious: true, PreviousScore: 86, PreviousStar: 3,
				Holding: []Term{TermLive, TermPrevious}, NextStar: 4, PointsToNext: 2, Review: Cycle{2027, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Explain(tt.s)
			if got.RatedStar != p.RatedStar(tt.s) {
				t.Errorf("RatedStar %d, want RatedStar() %d", got.RatedStar, p.RatedStar(tt.s))
			}
			if !slices.Equal(got.Holding, tt.want.Holding) {
				t.Errorf("Holding = %v, want %v", got.Holding, tt.want.Holding)
			}
			got.Holding, tt.want.Holding = nil, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Explain =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}
