package shrinkage

import (
	"math"
	"testing"
)

// The expected numbers below were computed independently with Python's
// mpmath 1.3 at 30 digits: betainc(a, b, 0, x, regularized=True) and
// gammainc(a, 0, x, regularized=True) for the distribution functions, their
// quantiles by 200 bisection steps of those, and the estimators' formulas
// (as their doc comments state them) written out again in mpmath.

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

func TestBetaCDF(t *testing.T) {
	for _, c := range []struct{ x, a, b, want float64 }{
		{0.3, 2, 5, 0.579825},
		{0.1, 0.5, 0.5, 0.20483276469913346},
		{0.9, 30, 3, 0.36668351908062032},
		{0.05, 12.5, 187.5, 0.24374059999222832},
		{0.5, 1, 1, 0.5},
		{0, 2, 3, 0},
		{1, 2, 3, 1},
	} {
		near(t, "BetaCDF", BetaCDF(c.x, c.a, c.b), c.want, 1e-12)
	}
}

func TestBetaQuantile(t *testing.T) {
	for _, c := range []struct{ p, a, b, want float64 }{
		{0.025, 12.5, 187.5, 0.03338372559113518},
		{0.975, 12.5, 187.5, 0.099865588228846484},
		{0.025, 3, 100, 0.0061069738624285857},
		{0.975, 0.7, 4.3, 0.51583224801358963},
		{0.5, 2, 2, 0.5},
		{0.975, 40, 2, 0.99403688175895717},
		{0.3, 4, 1, math.Pow(0.3, 0.25)}, // Beta(a,1): x = p^(1/a)
	} {
		near(t, "BetaQuantile", BetaQuantile(c.p, c.a, c.b), c.want, 1e-10)
	}
}

func TestGammaCDFAndQuantile(t *testing.T) {
	for _, c := range []struct{ x, a, want float64 }{
		{1, 1, 0.63212055882855768},
		{3, 2.5, 0.6937810815867216},
		{10, 12, 0.30322385369689331},
		{0.5, 0.3, 0.81381180467439267},
		{40, 30, 0.95677131784826443},
	} {
		near(t, "GammaCDF", GammaCDF(c.x, c.a), c.want, 1e-12)
	}
	for _, c := range []struct{ p, a, want float64 }{
		{0.025, 6, 2.2018942534908508},
		{0.975, 6, 11.668332079322668},
		{0.025, 0.4, 7.3283243553458525e-5},
		{0.975, 39.2, 52.389391633587431},
		{0.5, 1, math.Ln2}, // exponential: median ln 2
	} {
		near(t, "GammaQuantile", GammaQuantile(c.p, c.a), c.want, 1e-10)
	}
	near(t, "NormalQuantile(0.975)", NormalQuantile(0.975), 1.959963984540054, 1e-12)
}

// want is one unit's expected estimate.
type want struct{ mean, lo, hi, peer float64 }

func checkEstimates(t *testing.T, got []Estimate, wants []want, flags []int) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("%d estimates, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		near(t, "mean", got[i].Mean, w.mean, 1e-9)
		near(t, "lo", got[i].Lo, w.lo, 1e-9)
		near(t, "hi", got[i].Hi, w.hi, 1e-9)
		near(t, "peer", got[i].Peer, w.peer, 1e-9)
		if got[i].Flag != flags[i] {
			t.Errorf("unit %d: flag %d, want %d", i, got[i].Flag, flags[i])
		}
	}
}

func TestShrinkProportions(t *testing.T) {
	t.Run("strength at the floor", func(t *testing.T) {
		// m = 37/70, ρ = 0.432410879779, fitted α+β = 1.31261526192 < 10.
		pr, got := ShrinkProportions([]Count{{2, 10}, {5, 20}, {30, 40}, {0, 0}}, 10)
		near(t, "mean", pr.Mean, 37.0/70, 1e-12)
		near(t, "fitted", pr.Fitted, 1.31261526192, 1e-9)
		near(t, "strength", pr.Strength, 10, 0)
		checkEstimates(t, got, []want{
			{0.364285714286, 0.173964556494, 0.580299289421, 0.583333333333},
			{0.342857142857, 0.18714290039, 0.518412727526, 0.64},
			{0.705714285714, 0.573572115899, 0.822275744062, 0.233333333333},
			{0.528571428571, 0.235682166913, 0.810672708606, 0.528571428571}, // no trials: the prior, never flagged
		}, []int{-1, -1, 1, 0})
	})
	t.Run("fitted strength", func(t *testing.T) {
		pr, got := ShrinkProportions([]Count{{10, 50}, {20, 50}, {15, 50}, {30, 60}}, 2)
		near(t, "strength", pr.Strength, 16.4721122706, 1e-9)
		checkEstimates(t, got, []want{
			{0.238940763231, 0.145148512233, 0.347596881315, 0.40625},
			{0.389379791846, 0.276597147635, 0.508470159149, 0.34375},
			{0.314160277538, 0.209151717711, 0.429760412305, 0.375},
			{0.469228535398, 0.359180381536, 0.580802106324, 0.3},
		}, []int{-1, 0, 0, 1})
	})
	t.Run("degenerate", func(t *testing.T) {
		pr, got := ShrinkProportions([]Count{{0, 10}, {0, 30}}, 10)
		if !pr.Degenerate || got[0].Flag != 0 || got[1].Mean != 0 || got[1].Hi != 0 {
			t.Errorf("no events anywhere: %+v %+v", pr, got)
		}
		pr, got = ShrinkProportions([]Count{{10, 10}, {30, 30}}, 10)
		if !pr.Degenerate || got[0].Flag != 0 || got[0].Mean != 1 {
			t.Errorf("only events: %+v %+v", pr, got)
		}
		if pr, got := ShrinkProportions(nil, 10); !pr.Degenerate || len(got) != 0 {
			t.Errorf("no units: %+v %+v", pr, got)
		}
	})
}

func TestShrinkRates(t *testing.T) {
	t.Run("strength at the floor", func(t *testing.T) {
		// m = 47/78, τ² = 0.240674698795, fitted β = 2.50364540012 < 10.
		pr, got := ShrinkRates([]Count{{6, 20}, {8, 30}, {30, 25}, {3, 3}}, 10)
		near(t, "fitted", pr.Fitted, 2.50364540012, 1e-9)
		near(t, "strength", pr.Strength, 10, 0)
		checkEstimates(t, got, []want{
			{0.400854700855, 0.20729763131, 0.657166413304, 0.706896551724},
			{0.350641025641, 0.191820698028, 0.556569975777, 0.8125},
			{1.0293040293, 0.721011502197, 1.39161048593, 0.320754716981},
			// three inspections, each with a deduction: never flagged
			{0.694280078895, 0.317891675834, 1.2151768505, 0.586666666667},
		}, []int{-1, -1, 1, 0})
	})
	t.Run("fitted strength", func(t *testing.T) {
		pr, got := ShrinkRates([]Count{{10, 50}, {20, 50}, {15, 50}, {30, 60}}, 2)
		near(t, "strength", pr.Strength, 34.1614906832, 1e-9)
		checkEstimates(t, got, []want{
			{0.263784923564, 0.165703814898, 0.384299942813, 0.40625},
			{0.382604111755, 0.262040792182, 0.525624601473, 0.34375},
			{0.323194517659, 0.213349978246, 0.455486763015, 0.375},
			{0.44817188089, 0.32327543071, 0.593151392176, 0.3},
		}, []int{-1, 0, 0, 1})
	})
	t.Run("no more spread than chance: the county's trials", func(t *testing.T) {
		pr, got := ShrinkRates([]Count{{10, 50}, {10, 50}}, 2)
		if !math.IsInf(pr.Fitted, 1) || pr.Strength != 100 {
			t.Errorf("prior %+v, want fitted +Inf and strength 100", pr)
		}
		checkEstimates(t, got, []want{
			{0.2, 0.134939160143, 0.277658916257, 0.2},
			{0.2, 0.134939160143, 0.277658916257, 0.2},
		}, []int{0, 0})
	})
	t.Run("degenerate", func(t *testing.T) {
		if pr, got := ShrinkRates([]Count{{0, 10}, {0, 5}}, 10); !pr.Degenerate || got[0].Flag != 0 || got[1].Hi != 0 {
			t.Errorf("no events: %+v %+v", pr, got)
		}
	})
}

func TestShrinkMeans(t *testing.T) {
	sample := func(values ...float64) Sample {
		s := Sample{N: float64(len(values))}
		for _, v := range values {
			s.Sum, s.Squares = s.Sum+v, s.Squares+v*v
		}
		return s
	}
	// μ = 72/19, σ² = 1.04166666667, τ² = 4.5481557377, fitted 0.229 < 10.
	pr, got := ShrinkMeans([]Sample{sample(2, 2, 3, 2, 1, 2), sample(3, 3, 2, 3), sample(5, 8, 5, 5, 6, 5, 8, 5), sample(2)}, 10, 1.0/12)
	near(t, "within", pr.Within, 1.04166666667, 1e-9)
	near(t, "fitted", pr.Fitted, 0.229030562439, 1e-9)
	checkEstimates(t, got, []want{
		{3.11842105263, 2.61832608634, 3.61851601892, 4.61538461538},
		{3.49248120301, 2.95785719595, 4.02710521006, 4.06666666667},
		{4.71637426901, 4.24488021314, 5.18786832487, 2.27272727273},
		{3.62679425837, 3.02365703557, 4.22993148118, 3.88888888889},
	}, []int{-1, -1, 1, 0})

	// Equal values everywhere: σ² is the floor, nothing differs.
	pr, got = ShrinkMeans([]Sample{sample(2, 2), sample(2, 2, 2)}, 10, 1.0/12)
	if pr.Within != 1.0/12 || got[0].Flag != 0 || got[0].Mean != 2 {
		t.Errorf("equal values: %+v %+v", pr, got)
	}
	if pr, _ := ShrinkMeans([]Sample{{}, {}}, 10, 1.0/12); !pr.Degenerate {
		t.Errorf("no values: %+v", pr)
	}
}
