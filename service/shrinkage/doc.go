// Package shrinkage holds the empirical-Bayes estimators of the
// enforcement-fairness report as pure functions: rates of a county's officers
// or roads pulled towards the county mean in proportion to how little each
// has observed, with posterior intervals, and the distribution functions
// (regularized incomplete beta and gamma, and their inverses) they need.
package shrinkage
