package models

import (
	"context"
	"time"
)

// Ledger entry kinds.
const (
	KindDeduction  = "deduction"
	KindBonus      = "bonus"
	KindReversal   = "reversal"
	KindAdjustment = "adjustment"
)

// LedgerEntry is one append-only score event (积分流水). CountsAs names the tally
// it moves (deduction or bonus): a reversal counts as the kind it cancels, with
// the opposite sign. Database triggers refuse UPDATE and DELETE.
type LedgerEntry struct {
	ID           int64
	MerchantID   int64
	Cycle        string
	Kind         string
	CountsAs     string
	Points       int
	Serious      bool
	RuleCode     string
	InspectionID *int64
	ReversesID   *int64
	AuthorID     int64
	Note         string
	Reason       string
	OccurredAt   time.Time
	CreatedAt    time.Time
}

// AppendLedger inserts entries in one statement.
func (db *DB) AppendLedger(ctx context.Context, entries []LedgerEntry) error {
	return translate(db.conn(ctx).Create(&entries).Error)
}

// LedgerEntryByID returns one entry or ErrNotFound.
func (db *DB) LedgerEntryByID(ctx context.Context, id int64) (LedgerEntry, error) {
	var e LedgerEntry
	return e, translate(db.conn(ctx).Take(&e, id).Error)
}

// LedgerOf returns a merchant's entries of a cycle (all cycles when empty), in order.
func (db *DB) LedgerOf(ctx context.Context, merchantID int64, cycle string) ([]LedgerEntry, error) {
	q := db.conn(ctx).Where("merchant_id = ?", merchantID)
	if cycle != "" {
		q = q.Where("cycle = ?", cycle)
	}
	var out []LedgerEntry
	return out, translate(q.Order("id").Find(&out).Error)
}

// LedgerOfInspections returns the entries made by the given inspections.
func (db *DB) LedgerOfInspections(ctx context.Context, ids []int64) ([]LedgerEntry, error) {
	var out []LedgerEntry
	return out, translate(db.conn(ctx).Where("inspection_id IN ?", ids).Order("id").Find(&out).Error)
}

// ReversedIDs returns which of the entry ids have been reversed.
func (db *DB) ReversedIDs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	var rows []LedgerEntry
	if err := db.conn(ctx).Select("id, reverses_id").Where("reverses_id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[*r.ReversesID] = r.ID
	}
	return out, nil
}

// ScoreKey names one merchant's cycle.
type ScoreKey struct {
	MerchantID int64
	Cycle      string
}

// LedgerTally is what a cycle's ledger entries add up to.
type LedgerTally struct {
	MerchantID int64
	Cycle      string
	Deductions int
	Bonuses    int
	Serious    int
	Entries    int
}

// LedgerTallies sums the whole ledger per merchant and cycle, for the consistency check.
func (db *DB) LedgerTallies(ctx context.Context) (map[ScoreKey]LedgerTally, error) {
	var rows []LedgerTally
	err := db.conn(ctx).Raw(`SELECT merchant_id, cycle,
		COALESCE(SUM(CASE WHEN counts_as = 'deduction' THEN -points ELSE 0 END), 0) AS deductions,
		COALESCE(SUM(CASE WHEN counts_as = 'bonus' THEN points ELSE 0 END), 0) AS bonuses,
		COALESCE(SUM(CASE WHEN serious AND kind = 'reversal' THEN -1 WHEN serious THEN 1 ELSE 0 END), 0) AS serious,
		COUNT(*) AS entries
		FROM ledger_entries GROUP BY merchant_id, cycle`).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[ScoreKey]LedgerTally, len(rows))
	for _, r := range rows {
		out[ScoreKey{r.MerchantID, r.Cycle}] = r
	}
	return out, nil
}
