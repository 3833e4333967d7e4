package models

import (
	"context"
	"time"
)

// Repair application statuses.
const (
	RepairPending = "pending"
	RepairGranted = "granted"
	RepairRefused = "refused"
)

// RepairApplication is a merchant's application for early credit repair
// (信用修复) of the serious-item caps of the cycles up to ThroughCycle, with
// its signed credit commitment (信用承诺: PledgeName, typed by the merchant).
// OpenMerchantID is the shop's id while pending and nil once decided: the
// unique key allows one open application per shop.
type RepairApplication struct {
	ID             int64
	MerchantID     int64
	CountyID       int64
	ThroughCycle   string
	Reason         string
	PhotoIDs       string // comma-separated ids of the merchant's photos
	PledgeName     string
	AppliedBy      int64
	AppliedAt      time.Time
	DueAt          time.Time
	Status         string
	DecidedBy      *int64
	DecidedAt      *time.Time
	DecisionNote   string
	OpenMerchantID *int64
}

// Repair is a granted credit repair: an append-only event (triggers refuse
// changes). From GrantedAt on, the serious items of ThroughCycle and earlier
// no longer cap the shop's star.
type Repair struct {
	ID            int64
	ApplicationID int64
	MerchantID    int64
	CountyID      int64
	ThroughCycle  string
	GrantedBy     int64
	GrantedAt     time.Time
}

// CreateRepairApplication stores a. A second open application of the shop
// is ErrDuplicate.
func (db *DB) CreateRepairApplication(ctx context.Context, a *RepairApplication) error {
	return translate(db.conn(ctx).Create(a).Error)
}

// RepairApplicationByID returns one application or ErrNotFound.
func (db *DB) RepairApplicationByID(ctx context.Context, id int64) (RepairApplication, error) {
	var a RepairApplication
	return a, translate(db.conn(ctx).Take(&a, id).Error)
}

// RepairFilter narrows ListRepairApplications. CountyIDs nil means every county.
type RepairFilter struct {
	CountyIDs  []int64
	MerchantID int64
	Status     string
	Limit      int
	Offset     int
}

// ListRepairApplications returns one page of applications, the pending ones
// first by deadline, then the decided ones newest first, and the total.
func (db *DB) ListRepairApplications(ctx context.Context, f RepairFilter) ([]RepairApplication, int64, error) {
	q := db.conn(ctx).Model(&RepairApplication{})
	if f.CountyIDs != nil {
		q = q.Where("county_id IN ?", f.CountyIDs)
	}
	if f.MerchantID != 0 {
		q = q.Where("merchant_id = ?", f.MerchantID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	return page[RepairApplication](q, "CASE WHEN status = 'pending' THEN 0 ELSE 1 END, "+
		"CASE WHEN status = 'pending' THEN due_at END, decided_at DESC, id DESC", f.Limit, f.Offset)
}

// DecideRepairApplication records the decision of a pending application and
// closes it; one decided meanwhile (another admin) is ErrNotFound.
func (db *DB) DecideRepairApplication(ctx context.Context, a RepairApplication) error {
	res := db.conn(ctx).Exec(`UPDATE repair_applications SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?,
		open_merchant_id = NULL WHERE id = ? AND status = ?`, a.Status, a.DecidedBy, a.DecidedAt, a.DecisionNote, a.ID, RepairPending)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateRepair appends a granted repair.
func (db *DB) CreateRepair(ctx context.Context, r *Repair) error {
	return translate(db.conn(ctx).Create(r).Error)
}

// RepairsOf returns the granted repairs of the merchants, oldest first.
func (db *DB) RepairsOf(ctx context.Context, merchantIDs []int64) ([]Repair, error) {
	var out []Repair
	if len(merchantIDs) == 0 {
		return out, nil
	}
	err := db.conn(ctx).Where("merchant_id IN ?", merchantIDs).Order("granted_at, id").Find(&out).Error
	return out, translate(err)
}

// AllRepairs returns every granted repair, oldest first (menqian check).
func (db *DB) AllRepairs(ctx context.Context) ([]Repair, error) {
	var out []Repair
	return out, translate(db.conn(ctx).Order("id").Find(&out).Error)
}

// SeriousDeductions returns the merchant's serious deductions of the cycles
// that are not reversed, oldest first.
func (db *DB) SeriousDeductions(ctx context.Context, merchantID int64, cycles []string) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := db.conn(ctx).Where(`merchant_id = ? AND cycle IN ? AND kind = ? AND serious AND NOT EXISTS
		(SELECT 1 FROM ledger_entries r WHERE r.reverses_id = ledger_entries.id)`, merchantID, cycles, KindDeduction).
		Order("occurred_at, id").Find(&out).Error
	return out, translate(err)
}

// RectifiedSince tells whether a rectification notice of the merchant for
// the rule was confirmed rectified (复查) at or after since.
func (db *DB) RectifiedSince(ctx context.Context, merchantID int64, ruleCode string, since time.Time) (bool, error) {
	var n int64
	err := db.conn(ctx).Model(&Notice{}).Where("merchant_id = ? AND rule_code = ? AND status = ? AND resolved_at >= ?",
		merchantID, ruleCode, NoticeRectified, since).Count(&n).Error
	return n > 0, translate(err)
}

// CleanInspectionAfter tells whether the merchant had an inspection after
// the time that recorded no deduction.
func (db *DB) CleanInspectionAfter(ctx context.Context, merchantID int64, after time.Time) (bool, error) {
	var n int64
	err := db.conn(ctx).Model(&Inspection{}).Where(`merchant_id = ? AND inspected_at > ? AND NOT EXISTS
		(SELECT 1 FROM ledger_entries e WHERE e.inspection_id = inspections.id AND e.kind = ?)`, merchantID, after, KindDeduction).
		Count(&n).Error
	return n > 0, translate(err)
}
