package models

import (
	"context"
	"time"
)

// PublicEntry is a deduction or bonus as the public plaque page may show
// it: what, when and how much, whether it was reversed and its appeal's
// status; never its author, note or evidence.
type PublicEntry struct {
	ID         int64
	Kind       string
	Points     int
	RuleCode   string
	OccurredAt time.Time
	Reversed   bool
	Appeal     string // the appeal's status; "" when none was filed
}

// PublicEntriesOf returns a merchant's deductions and bonuses of the given
// cycles, newest first, each with its reversal and appeal, in one query
// (reverses_id and the appeal's entry_id are unique).
func (db *DB) PublicEntriesOf(ctx context.Context, merchantID int64, cycles []string) ([]PublicEntry, error) {
	var out []PublicEntry
	if len(cycles) == 0 {
		return out, nil
	}
	err := db.conn(ctx).Raw(`SELECT e.id, e.kind, e.points, e.rule_code, e.occurred_at,
		CASE WHEN r.id IS NULL THEN 0 ELSE 1 END AS reversed, COALESCE(a.status, '') AS appeal
		FROM ledger_entries e
		LEFT JOIN ledger_entries r ON r.reverses_id = e.id
		LEFT JOIN appeals a ON a.entry_id = e.id
		WHERE e.merchant_id = ? AND e.cycle IN ? AND e.kind IN ?
		ORDER BY e.occurred_at DESC, e.id DESC`, merchantID, cycles, []string{KindDeduction, KindBonus}).Scan(&out).Error
	return out, translate(err)
}
