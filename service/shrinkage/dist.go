package shrinkage

import "math"

// Distribution functions. The continued fractions follow Numerical Recipes
// (3rd ed., §6.2 and §6.4, modified Lentz); the inverses bisect, which is
// slower than Newton's method but cannot diverge, and the report needs a few
// hundred quantiles at most.

const (
	epsilon  = 1e-15
	tiny     = 1e-300
	maxIters = 500
)

// BetaCDF is the regularized incomplete beta function I_x(a, b): the
// probability that a Beta(a, b) variable is at most x (a, b > 0).
func BetaCDF(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	// The continued fraction converges fast for x < (a+1)/(a+b+2); use the
	// symmetry I_x(a,b) = 1 - I_{1-x}(b,a) on the other side.
	if x < (a+1)/(a+b+2) {
		return front * betaFraction(x, a, b) / a
	}
	return 1 - front*betaFraction(1-x, b, a)/b
}

// betaFraction evaluates the continued fraction of the incomplete beta function.
func betaFraction(x, a, b float64) float64 {
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIters; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d, c = 1+aa*d, 1+aa/c
		d, c = nonzero(d), nonzero(c)
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d, c = 1+aa*d, 1+aa/c
		d, c = nonzero(d), nonzero(c)
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < epsilon {
			break
		}
	}
	return h
}

func nonzero(v float64) float64 {
	if math.Abs(v) < tiny {
		return tiny
	}
	return v
}

// GammaCDF is the regularized lower incomplete gamma function P(a, x): the
// probability that a Gamma(shape a, rate 1) variable is at most x (a > 0).
func GammaCDF(x, a float64) float64 {
	if x <= 0 {
		return 0
	}
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		// The series Σ x^n / (a(a+1)…(a+n)).
		sum, term, ap := 1/a, 1/a, a
		for range maxIters {
			ap++
			term *= x / ap
			sum += term
			if math.Abs(term) < math.Abs(sum)*epsilon {
				break
			}
		}
		return sum * math.Exp(-x+a*math.Log(x)-lg)
	}
	// The continued fraction of the upper function Q(a, x).
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i <= maxIters; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = nonzero(an*d + b)
		c = nonzero(b + an/c)
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < epsilon {
			break
		}
	}
	return 1 - math.Exp(-x+a*math.Log(x)-lg)*h
}

// BetaQuantile is the p-quantile of Beta(a, b): the x with I_x(a, b) = p.
func BetaQuantile(p, a, b float64) float64 {
	return bisect(p, 0, 1, func(x float64) float64 { return BetaCDF(x, a, b) })
}

// GammaQuantile is the p-quantile of Gamma(shape a, rate 1); divide by the
// rate for another rate.
func GammaQuantile(p, a float64) float64 {
	hi := math.Max(1, 2*a)
	for GammaCDF(hi, a) < p && hi < 1e300 {
		hi *= 2
	}
	return bisect(p, 0, hi, func(x float64) float64 { return GammaCDF(x, a) })
}

// bisect finds the x in [lo, hi] where the increasing cdf reaches p.
func bisect(p, lo, hi float64, cdf func(float64) float64) float64 {
	switch {
	case p <= 0:
		return lo
	case p >= 1:
		return hi
	}
	for range 200 {
		mid := lo + (hi-lo)/2
		if mid == lo || mid == hi {
			break
		}
		if cdf(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// NormalQuantile is the p-quantile of the standard normal distribution.
func NormalQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }
