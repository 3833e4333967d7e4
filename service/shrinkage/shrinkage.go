package shrinkage

import "math"

// Level is the posterior probability of every interval.
const Level = 0.95

// Count is what one unit (an officer, a road) observed of one rate: Events
// among Trials for a proportion (serious items among deductions), or Events
// over an exposure of Trials for a rate (deductions over inspections).
type Count struct {
	Events, Trials float64
}

// Sample is what one unit observed of a mean: N values with their Sum and
// the Sum of their Squares (points over deductions).
type Sample struct {
	N, Sum, Squares float64
}

// Prior is the county's prior of one rate, fitted by the method of moments
// over its units with data.
type Prior struct {
	Mean float64 // the pooled county mean: all events over all trials
	// Strength is the prior's weight in trials: a unit's estimate is
	// (events + Strength·Mean) / (trials + Strength). The fitted value is
	// kept within [the floor asked, the county's total trials].
	Strength float64
	// Fitted is the strength the moments gave before the floor and the
	// ceiling (+Inf when the units vary no more than chance allows).
	Fitted float64
	// Within is the pooled within-unit variance of a mean's values (means only).
	Within float64
	// Degenerate: every unit sits at the same bound (no events at all, or
	// only events), so there is nothing to compare and nothing is flagged.
	Degenerate bool
}

// Estimate is one unit's rate.
type Estimate struct {
	Trials float64 // the unit's trials (inspections, deductions, notices)
	Raw    float64 // events / trials; 0 without trials
	// Mean, Lo and Hi are the posterior mean and the equal-tailed Level
	// posterior interval: the unit's rate shrunk towards the county mean.
	Mean, Lo, Hi float64
	// Peer is the pooled rate of the county's other units (events of the
	// others over their trials); HasPeers is false when they have no trials.
	Peer     float64
	HasPeers bool
	// Flag is +1 when the interval lies wholly above Peer, -1 wholly below,
	// else 0. A unit without trials is never flagged.
	Flag int
}

// moments are the sums the method of moments needs over the units with trials.
type moments struct {
	k            int     // units with trials
	total, sumN2 float64 // Σ trials, Σ trials²
}

// pooled sums the units with trials: their moments, a prior with the pooled
// mean (0 without trials) and the spread S = Σ nᵢ(rᵢ − m)² of their rates.
func pooled(units []Count) (moments, Prior, float64) {
	var mo moments
	var events float64
	for _, u := range units {
		if u.Trials > 0 {
			mo.k++
			mo.total += u.Trials
			mo.sumN2 += u.Trials * u.Trials
			events += u.Events
		}
	}
	var pr Prior
	if mo.total > 0 {
		pr.Mean = events / mo.total
	}
	var spread float64
	for _, u := range units {
		if u.Trials > 0 {
			d := u.Events/u.Trials - pr.Mean
			spread += u.Trials * d * d
		}
	}
	return mo, pr, spread
}

// clampStrength keeps a fitted strength within [floor, max(floor, total)]:
// at least floor trials (so a handful of trials never tops a table), at most
// the whole county's trials (when the units differ no more than chance, the
// county's own evidence is the prior).
func clampStrength(fitted, floor, total float64) float64 {
	ceiling := math.Max(floor, total)
	if math.IsNaN(fitted) || fitted > ceiling {
		return ceiling
	}
	return math.Max(fitted, floor)
}

// excess turns the weighted spread of the units' rates into the fitted
// strength: spread is Σ nᵢ(rᵢ − m)², chance is what one unit's chance
// variance contributes times its trials (m(1−m) for a proportion, m for a
// rate, σ² for a mean), and strength = chance / τ² with the between-unit
// variance τ² = (spread − (k−1)·chance) / (N − Σnᵢ²/N): the expected spread
// is (k−1)·chance + τ²·(N − Σnᵢ²/N) when the true rates vary with variance τ².
func excess(mo moments, spread, chance float64) float64 {
	denom := mo.total - mo.sumN2/mo.total
	tau2 := (spread - float64(mo.k-1)*chance) / denom
	if mo.k < 2 || denom <= 0 || tau2 <= 0 {
		return math.Inf(1)
	}
	return chance / tau2
}

// ShrinkProportions is the beta-binomial estimator: each unit's Events of
// Trials with a Beta(α, β) prior, α = Mean·Strength, β = (1−Mean)·Strength,
// fitted by the method of moments (Kleinman 1973): with pooled mean m, k
// units, N trials and S = Σ nᵢ(pᵢ − m)², the intra-unit correlation is
// ρ = (S/(m(1−m)) − (k−1)) / (N − Σnᵢ²/N − (k−1)) and α+β = 1/ρ − 1. The
// posterior is Beta(α + eᵢ, β + nᵢ − eᵢ), its interval from the beta quantiles.
func ShrinkProportions(units []Count, floor float64) (Prior, []Estimate) {
	mo, pr, spread := pooled(units)
	if pr.Mean <= 0 || pr.Mean >= 1 {
		pr.Degenerate, pr.Fitted, pr.Strength = true, math.Inf(1), math.Max(floor, mo.total)
		return pr, estimates(units, pr, nil)
	}
	chance := pr.Mean * (1 - pr.Mean)
	pr.Fitted = math.Inf(1)
	if denom := mo.total - mo.sumN2/mo.total - float64(mo.k-1); mo.k >= 2 && denom > 0 {
		if rho := (spread/chance - float64(mo.k-1)) / denom; rho > 0 {
			pr.Fitted = 1/rho - 1
		}
	}
	pr.Strength = clampStrength(pr.Fitted, floor, mo.total)
	a, b := pr.Mean*pr.Strength, (1-pr.Mean)*pr.Strength
	return pr, estimates(units, pr, func(u Count) (float64, float64, float64) {
		pa, pb := a+u.Events, b+u.Trials-u.Events
		tail := (1 - Level) / 2
		return pa / (pa + pb), BetaQuantile(tail, pa, pb), BetaQuantile(1-tail, pa, pb)
	})
}

// ShrinkRates is the gamma-Poisson estimator: each unit's Events over an
// exposure of Trials with a Gamma(shape α, rate β) prior of its rate,
// β = Strength and α = Mean·Strength, fitted by the method of moments
// (Clayton and Kaldor 1987): with pooled rate m and S = Σ nᵢ(rᵢ − m)², the
// between-unit variance is τ² = (S − (k−1)m) / (N − Σnᵢ²/N) and β = m/τ².
// The posterior is Gamma(α + eᵢ, β + nᵢ), its interval from the gamma quantiles.
func ShrinkRates(units []Count, floor float64) (Prior, []Estimate) {
	mo, pr, spread := pooled(units)
	if pr.Mean <= 0 {
		pr.Degenerate, pr.Fitted, pr.Strength = true, math.Inf(1), math.Max(floor, mo.total)
		return pr, estimates(units, pr, nil)
	}
	pr.Fitted = excess(mo, spread, pr.Mean)
	pr.Strength = clampStrength(pr.Fitted, floor, mo.total)
	shape := pr.Mean * pr.Strength
	return pr, estimates(units, pr, func(u Count) (float64, float64, float64) {
		ps, pr := shape+u.Events, pr.Strength+u.Trials
		tail := (1 - Level) / 2
		return ps / pr, GammaQuantile(tail, ps) / pr, GammaQuantile(1-tail, ps) / pr
	})
}

// ShrinkMeans is the normal-normal estimator of a mean per unit: values with
// a pooled within-unit variance σ² (at least minWithin), unit means with a
// normal prior N(μ, τ²), τ² = (S − (k−1)σ²) / (N − Σnᵢ²/N) with
// S = Σ nᵢ(ȳᵢ − μ)², and Strength = σ²/τ². The posterior of a unit's mean is
// normal with mean (Σyᵢ + Strength·μ) / (nᵢ + Strength) and variance
// σ² / (nᵢ + Strength).
func ShrinkMeans(units []Sample, floor, minWithin float64) (Prior, []Estimate) {
	counts := make([]Count, len(units))
	var within float64
	for i, u := range units {
		counts[i] = Count{Events: u.Sum, Trials: u.N}
		if u.N > 0 {
			within += u.Squares - u.Sum*u.Sum/u.N
		}
	}
	mo, pr, spread := pooled(counts)
	if mo.total == 0 {
		pr.Degenerate, pr.Fitted, pr.Strength = true, math.Inf(1), floor
		return pr, estimates(counts, pr, nil)
	}
	pr.Within = minWithin
	if df := mo.total - float64(mo.k); df > 0 {
		pr.Within = math.Max(within/df, minWithin)
	}
	pr.Fitted = excess(mo, spread, pr.Within)
	pr.Strength = clampStrength(pr.Fitted, floor, mo.total)
	z := NormalQuantile(1 - (1-Level)/2)
	return pr, estimates(counts, pr, func(u Count) (float64, float64, float64) {
		n := u.Trials + pr.Strength
		mean, sd := (u.Events+pr.Strength*pr.Mean)/n, math.Sqrt(pr.Within/n)
		return mean, mean - z*sd, mean + z*sd
	})
}

// estimates computes each unit's raw rate, peer rate, posterior (nil: the
// prior is degenerate and every estimate is the mean) and flag.
func estimates(units []Count, pr Prior, posterior func(Count) (mean, lo, hi float64)) []Estimate {
	var events, trials float64
	for _, u := range units {
		events, trials = events+u.Events, trials+u.Trials
	}
	out := make([]Estimate, len(units))
	for i, u := range units {
		e := Estimate{Trials: u.Trials, Mean: pr.Mean, Lo: pr.Mean, Hi: pr.Mean}
		if u.Trials > 0 {
			e.Raw = u.Events / u.Trials
		}
		if rest := trials - u.Trials; rest > 0 {
			e.Peer, e.HasPeers = (events-u.Events)/rest, true
		}
		if posterior != nil {
			e.Mean, e.Lo, e.Hi = posterior(u)
		}
		if u.Trials > 0 && e.HasPeers && !pr.Degenerate {
			switch {
			case e.Lo > e.Peer:
				e.Flag = 1
			case e.Hi < e.Peer:
				e.Flag = -1
			}
		}
		out[i] = e
	}
	return out
}
