package models

import (
	"context"
	"time"
)

// Appeal statuses.
const (
	AppealPending  = "pending"
	AppealAccepted = "accepted"
	AppealRejected = "rejected"
)

// Appeal is a merchant's request to review one deduction (申诉). An accepted
// appeal is settled by a reversal entry of the deduction (found by its
// reverses_id); nothing in the ledger is edited.
type Appeal struct {
	ID           int64
	MerchantID   int64
	EntryID      int64
	Cycle        string
	Reason       string
	Status       string
	FiledBy      int64
	FiledAt      time.Time
	DecidedBy    *int64
	DecidedAt    *time.Time
	DecisionNote string
	PhotoIDs     string // comma-separated ids of the merchant's photos
}

// CreateAppeal stores a. A second appeal of one entry is ErrDuplicate (uq_appeals_entry).
func (db *DB) CreateAppeal(ctx context.Context, a *Appeal) error {
	return translate(db.conn(ctx).Create(a).Error)
}

// AppealByID returns one appeal or ErrNotFound.
func (db *DB) AppealByID(ctx context.Context, id int64) (Appeal, error) {
	var a Appeal
	return a, translate(db.conn(ctx).Take(&a, id).Error)
}

// AppealFilter narrows ListAppeals. CountyIDs nil means every county.
type AppealFilter struct {
	CountyIDs  []int64
	MerchantID int64
	Status     string
	Limit      int
	Offset     int
}

// ListAppeals returns one page of appeals, newest first, and the total.
func (db *DB) ListAppeals(ctx context.Context, f AppealFilter) ([]Appeal, int64, error) {
	q := db.conn(ctx).Model(&Appeal{})
	if f.CountyIDs != nil {
		// Each appeal's shop looked up, not "IN (every shop of the county)":
		// the few appeals are read first (by status when filtered).
		q = q.Where("EXISTS (SELECT 1 FROM merchants m WHERE m.id = appeals.merchant_id AND m.county_id IN ?)", f.CountyIDs)
	}
	if f.MerchantID != 0 {
		q = q.Where("appeals.merchant_id = ?", f.MerchantID)
	}
	if f.Status != "" {
		q = q.Where("appeals.status = ?", f.Status)
	}
	return page[Appeal](q, "appeals.id DESC", f.Limit, f.Offset)
}

// DecideAppeal records the decision of a pending appeal; one decided meanwhile
// (another admin) is ErrNotFound.
func (db *DB) DecideAppeal(ctx context.Context, a Appeal) error {
	res := db.conn(ctx).Exec(`UPDATE appeals SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?
		WHERE id = ? AND status = 'pending'`, a.Status, a.DecidedBy, a.DecidedAt, a.DecisionNote, a.ID)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// AppealsOfEntries returns the appeals of the given ledger entries by entry id.
func (db *DB) AppealsOfEntries(ctx context.Context, ids []int64) (map[int64]Appeal, error) {
	var rows []Appeal
	if err := db.conn(ctx).Where("entry_id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make(map[int64]Appeal, len(rows))
	for _, a := range rows {
		out[a.EntryID] = a
	}
	return out, nil
}
