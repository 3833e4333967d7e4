package models

import (
	"context"
	"time"
)

// FairnessUnit says what the fairness report groups by.
type FairnessUnit int

// The units of the fairness report.
const (
	ByOfficer FairnessUnit = iota // the officer who recorded the inspection or issued the notice
	ByRoad                        // the shop's road (as it is now)
)

// column is the SQL expression of the unit, over inspections i (or notices
// n, with notice true) joined to merchants m. Only these fixed strings
// reach the SQL.
func (u FairnessUnit) column(notice bool) string {
	switch {
	case u == ByRoad:
		return "m.road_id"
	case notice:
		return "n.issued_by"
	}
	return "i.officer_id"
}

// FairnessTally is what one unit's inspections in a range of cycles did.
type FairnessTally struct {
	Unit         int64
	Inspections  int
	Deductions   int // deduction items (ledger entries) recorded
	Points       int // their points, as a positive sum
	PointSquares int // the sum of their points squared
	Serious      int // deductions of serious items
	Bonuses      int // bonus items
	Appealed     int // deductions the merchant appealed
	Reversed     int // deductions reversed on an accepted appeal
}

// FairnessTallies sums a county's inspections of cycles from..to (inclusive,
// "YYYY-MM") per unit, with the deduction and bonus entries they made and
// the appeals of those deductions. Units without inspections are absent.
func (db *DB) FairnessTallies(ctx context.Context, countyID int64, from, to string, by FairnessUnit) ([]FairnessTally, error) {
	unit := by.column(false)
	var out []FairnessTally
	err := db.conn(ctx).Raw(`SELECT `+unit+` AS unit, COUNT(DISTINCT i.id) AS inspections,
		COALESCE(SUM(CASE WHEN e.kind = 'deduction' THEN 1 ELSE 0 END), 0) AS deductions,
		COALESCE(SUM(CASE WHEN e.kind = 'deduction' THEN -e.points ELSE 0 END), 0) AS points,
		COALESCE(SUM(CASE WHEN e.kind = 'deduction' THEN e.points * e.points ELSE 0 END), 0) AS point_squares,
		COALESCE(SUM(CASE WHEN e.kind = 'deduction' AND e.serious THEN 1 ELSE 0 END), 0) AS serious,
		COALESCE(SUM(CASE WHEN e.kind = 'bonus' THEN 1 ELSE 0 END), 0) AS bonuses,
		COALESCE(SUM(CASE WHEN e.kind = 'deduction' AND ap.id IS NOT NULL THEN 1 ELSE 0 END), 0) AS appealed,
		COALESCE(SUM(CASE WHEN e.kind = 'deduction' AND ap.status = ? THEN 1 ELSE 0 END), 0) AS reversed
		FROM merchants m
		JOIN inspections i ON i.merchant_id = m.id
		LEFT JOIN ledger_entries e ON e.inspection_id = i.id AND e.kind IN (?, ?)
		LEFT JOIN appeals ap ON ap.entry_id = e.id
		WHERE m.county_id = ? AND i.cycle >= ? AND i.cycle <= ?
		GROUP BY `+unit+` ORDER BY `+unit,
		AppealAccepted, KindDeduction, KindBonus, countyID, from, to).Scan(&out).Error
	return out, translate(err)
}

// FairnessNoticeTally is what became of one unit's rectification notices.
type FairnessNoticeTally struct {
	Unit     int64
	Notices  int // notices issued
	Deducted int // of them, followed by a deduction (see FairnessNotices)
}

// FairnessNotices counts the county's notices issued in [from, until) per
// unit and those that became deductions: the shop got a deduction of the
// notice's item (of any item when the notice named none) that happened
// after the notice was issued and, when the notice was confirmed fixed, no
// later than that.
func (db *DB) FairnessNotices(ctx context.Context, countyID int64, from, until time.Time, by FairnessUnit) ([]FairnessNoticeTally, error) {
	unit := by.column(true)
	var out []FairnessNoticeTally
	err := db.conn(ctx).Raw(`SELECT `+unit+` AS unit, COUNT(*) AS notices,
		COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM ledger_entries e
			WHERE e.merchant_id = n.merchant_id AND e.kind = ? AND (n.rule_code = '' OR e.rule_code = n.rule_code)
			AND e.occurred_at > n.issued_at AND (n.resolved_at IS NULL OR e.occurred_at <= n.resolved_at)) THEN 1 ELSE 0 END), 0) AS deducted
		FROM notices n
		JOIN merchants m ON m.id = n.merchant_id
		WHERE n.county_id = ? AND n.issued_at >= ? AND n.issued_at < ?
		GROUP BY `+unit+` ORDER BY `+unit,
		KindDeduction, countyID, from, until).Scan(&out).Error
	return out, translate(err)
}

// FairnessName is a unit of the report with the name it is shown by.
type FairnessName struct {
	ID   int64
	Name string
}

// FairnessNames names the report's units: by officer, the county's officer
// accounts and the accounts ids (who else recorded or issued in the county);
// by road, every road of the county. In id order.
func (db *DB) FairnessNames(ctx context.Context, countyID int64, by FairnessUnit, ids []int64) ([]FairnessName, error) {
	var out []FairnessName
	q := db.conn(ctx)
	if by == ByRoad {
		q = q.Raw(`SELECT id, name FROM roads WHERE county_id = ? ORDER BY id`, countyID)
	} else {
		if ids == nil {
			ids = []int64{}
		}
		q = q.Raw(`SELECT id, CASE WHEN display_name <> '' THEN display_name ELSE username END AS name FROM users
			WHERE (county_id = ? AND role = 'officer') OR id IN ? ORDER BY id`, countyID, ids)
	}
	return out, translate(q.Scan(&out).Error)
}
