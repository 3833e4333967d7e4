package models

import (
	"context"
	"database/sql"
	"time"
)

// CountyTally is what the scores of a county's merchants add up to in one cycle.
type CountyTally struct {
	Cycle     string
	Total     int64 // sum of the scores
	Merchants int
}

// FrozenCountyTallies sums the frozen merchant results of a county in those
// of cycles that are closed (a closed cycle in which the county had no
// merchant has no entry).
func (db *DB) FrozenCountyTallies(ctx context.Context, countyID int64, cycles []string) (map[string]CountyTally, error) {
	var rows []CountyTally
	err := db.conn(ctx).Raw(`SELECT cycle, SUM(score) AS total, COUNT(*) AS merchants FROM cycle_merchant_results
		WHERE county_id = ? AND cycle IN ? GROUP BY cycle`, countyID, cycles).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]CountyTally, len(rows))
	for _, r := range rows {
		out[r.Cycle] = r
	}
	return out, nil
}

// ClosedCyclesAmong reports which of cycles are closed.
func (db *DB) ClosedCyclesAmong(ctx context.Context, cycles []string) (map[string]bool, error) {
	var names []string
	if err := db.conn(ctx).Model(&ClosedCycle{}).Where("cycle IN ?", cycles).Pluck("cycle", &names).Error; err != nil {
		return nil, translate(err)
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

// FirstRegistration returns when the county's first merchant was registered;
// zero when it has none.
func (db *DB) FirstRegistration(ctx context.Context, countyID int64) (time.Time, error) {
	var first []time.Time
	err := db.conn(ctx).Model(&Merchant{}).Where("county_id = ?", countyID).Order("created_at").Limit(1).Pluck("created_at", &first).Error
	if err != nil || len(first) == 0 {
		return time.Time{}, translate(err)
	}
	return first[0], nil
}

// PendingAppealLine is a pending appeal with its shop and the deduction it contests.
type PendingAppealLine struct {
	Appeal
	MerchantCode string
	MerchantName string
	RuleCode     string
	Points       int
}

// OldestPendingAppeals returns up to limit of the county's pending appeals,
// the longest waiting first.
func (db *DB) OldestPendingAppeals(ctx context.Context, countyID int64, limit int) ([]PendingAppealLine, error) {
	var out []PendingAppealLine
	err := db.conn(ctx).Table("appeals a").
		Select("a.*, m.code AS merchant_code, m.name AS merchant_name, e.rule_code, e.points").
		Joins("JOIN merchants m ON m.id = a.merchant_id").Joins("JOIN ledger_entries e ON e.id = a.entry_id").
		Where("m.county_id = ? AND a.status = ?", countyID, AppealPending).
		Order("a.filed_at, a.id").Limit(limit).Scan(&out).Error
	return out, translate(err)
}

// CountPendingAppeals counts the county's pending appeals, and those of them
// filed before filedBefore.
func (db *DB) CountPendingAppeals(ctx context.Context, countyID int64, filedBefore time.Time) (total, before int, err error) {
	var row struct {
		Total   int
		Earlier sql.NullInt64
	}
	err = db.conn(ctx).Raw(`SELECT COUNT(*) AS total, SUM(CASE WHEN a.filed_at < ? THEN 1 ELSE 0 END) AS earlier
		FROM appeals a JOIN merchants m ON m.id = a.merchant_id WHERE m.county_id = ? AND a.status = ?`,
		filedBefore.UTC(), countyID, AppealPending).Scan(&row).Error
	return row.Total, int(row.Earlier.Int64), translate(err)
}
