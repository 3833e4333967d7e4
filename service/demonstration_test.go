package service

import (
	"reflect"
	"testing"

	"github.com/menqian/menqian/service/policy"
)

// TestQualify checks every demonstration threshold at its edge, with exact
// integer comparisons: an average of 89.995 shows as 90.00 but does not qualify.
func TestQualify(t *testing.T) {
	d := policy.Default().Demonstration // ≥ 10 merchants, average ≥ 90, ≥ 80% rated ≥ 4★
	// good is a road that meets every criterion with n merchants, all inspected,
	// all rated high, and the given score sum.
	good := func(n, sum int) (RoadMetrics, int) {
		return RoadMetrics{ActiveMerchants: n, Inspected: n, RatedHigh: n}, sum
	}
	cases := []struct {
		name string
		m    RoadMetrics
		sum  int
		want []string
	}{
		{"10 merchants qualify", RoadMetrics{ActiveMerchants: 10, Inspected: 10, RatedHigh: 10}, 1000, nil},
		{"9 merchants", RoadMetrics{ActiveMerchants: 9, Inspected: 9, RatedHigh: 9}, 900, []string{FailMerchants}},
		{"no merchants", RoadMetrics{}, 0, []string{FailMerchants, FailInspected, FailAverage, FailRated}},
		{"one uninspected", RoadMetrics{ActiveMerchants: 10, Inspected: 9, RatedHigh: 10}, 1000, []string{FailInspected}},
		{"average 90.00", RoadMetrics{ActiveMerchants: 100, Inspected: 100, RatedHigh: 100}, 9000, nil},
		{"average 89.99", RoadMetrics{ActiveMerchants: 100, Inspected: 100, RatedHigh: 100}, 8999, []string{FailAverage}},
		{"average 89.995 (shows 90.00)", RoadMetrics{ActiveMerchants: 200, Inspected: 200, RatedHigh: 200}, 17999, []string{FailAverage}},
		{"average 90.005", RoadMetrics{ActiveMerchants: 200, Inspected: 200, RatedHigh: 200}, 18001, nil},
		{"average 89.9 of 10", RoadMetrics{ActiveMerchants: 10, Inspected: 10, RatedHigh: 10}, 899, []string{FailAverage}},
		{"80% rated high", RoadMetrics{ActiveMerchants: 10, Inspected: 10, RatedHigh: 8}, 950, nil},
		{"70% rated high", RoadMetrics{ActiveMerchants: 10, Inspected: 10, RatedHigh: 7}, 950, []string{FailRated}},
		{"80 of 100 rated high", RoadMetrics{ActiveMerchants: 100, Inspected: 100, RatedHigh: 80}, 9500, nil},
		{"79 of 100 rated high", RoadMetrics{ActiveMerchants: 100, Inspected: 100, RatedHigh: 79}, 9500, []string{FailRated}},
		{"799 of 1000 rated high", RoadMetrics{ActiveMerchants: 1000, Inspected: 1000, RatedHigh: 799}, 95000, []string{FailRated}},
		{"one serious item", RoadMetrics{ActiveMerchants: 10, Inspected: 10, RatedHigh: 10, SeriousItems: 1}, 1000, []string{FailSerious}},
		{"one overdue notice", RoadMetrics{ActiveMerchants: 10, Inspected: 10, RatedHigh: 10, OverdueNotices: 1}, 1000, []string{FailOverdue}},
		{"everything fails", RoadMetrics{ActiveMerchants: 5, Inspected: 4, RatedHigh: 3, SeriousItems: 2, OverdueNotices: 1}, 400,
			[]string{FailMerchants, FailInspected, FailAverage, FailRated, FailSerious, FailOverdue}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Qualify(d, c.m, c.sum); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Qualify(%+v, sum %d) = %v, want %v", c.m, c.sum, got, c.want)
			}
		})
	}

	// Thresholds come from the policy, not from constants.
	strict := d
	strict.MinMerchants, strict.MinAverageScore, strict.MinRatedShare = 20, 95.5, 0.9
	m, sum := good(20, 20*95+10) // 95.5 exactly
	if got := Qualify(strict, m, sum); got != nil {
		t.Errorf("strict policy, 20 merchants averaging 95.50: %v, want none failing", got)
	}
	m.RatedHigh = 17 // 85% < 90%
	if got := Qualify(strict, m, sum-1); !reflect.DeepEqual(got, []string{FailAverage, FailRated}) {
		t.Errorf("strict policy, 95.45 and 85%%: %v", got)
	}
	if got := Qualify(d, m, sum-1); got != nil {
		t.Errorf("default policy, same road: %v, want none failing", got)
	}
}

// TestCents checks the 2-decimal road average, rounded half up.
func TestCents(t *testing.T) {
	cases := []struct {
		sum, n int
		want   int64
	}{
		{0, 0, 0}, {900, 10, 9000}, {8999, 100, 8999}, {17999, 200, 9000}, {17998, 200, 8999}, {1000, 3, 33333}, {200, 3, 6667},
	}
	for _, c := range cases {
		if got := cents(c.sum, c.n); got != c.want {
			t.Errorf("cents(%d, %d) = %d, want %d", c.sum, c.n, got, c.want)
		}
	}
}
