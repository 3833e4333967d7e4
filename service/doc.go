// Package service holds menqian's business rules: accounts and scopes, the
// registry, inspections and the score ledger, plaques and rankings.
package service
