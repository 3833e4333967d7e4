package models

import (
	"context"
	"fmt"
	"time"
)

// Inspection is one patrol record (巡查记录). Its idempotency key and the
// response it produced are stored in the same row, in the same transaction.
type Inspection struct {
	ID             int64
	MerchantID     int64
	OfficerID      int64
	Cycle          string
	InspectedAt    time.Time
	Lat            *float64
	Lng            *float64
	Note           string
	PhotoIDs       string // comma-separated photo ids, in upload order
	Delta          int
	IdempotencyKey string
	RequestHash    string
	Response       string
	CreatedAt      time.Time
}

// CreateInspection stores in. A reused (officer, idempotency key) is ErrDuplicate
// naming uq_inspections_key.
func (db *DB) CreateInspection(ctx context.Context, in *Inspection) error {
	return translate(db.conn(ctx).Create(in).Error)
}

// CreateInspections stores the rows in one statement and sets their ids. With
// more than one row the ids are read back by their (officer, key), so nothing
// depends on how the database numbers a multi-row insert.
func (db *DB) CreateInspections(ctx context.Context, rows []Inspection) error {
	if len(rows) <= 1 {
		for i := range rows {
			if err := db.CreateInspection(ctx, &rows[i]); err != nil {
				return err
			}
		}
		return nil
	}
	conn := db.conn(ctx)
	if err := conn.Create(&rows).Error; err != nil {
		return translate(err)
	}
	keys := make([][]any, len(rows))
	for i, r := range rows {
		keys[i] = []any{r.OfficerID, r.IdempotencyKey}
	}
	var ids []Inspection
	if err := conn.Select("id", "officer_id", "idempotency_key").Where("(officer_id, idempotency_key) IN ?", keys).Find(&ids).Error; err != nil {
		return translate(err)
	}
	type key struct {
		officer int64
		key     string
	}
	byKey := make(map[key]int64, len(ids))
	for _, r := range ids {
		byKey[key{r.OfficerID, r.IdempotencyKey}] = r.ID
	}
	for i := range rows {
		id, ok := byKey[key{rows[i].OfficerID, rows[i].IdempotencyKey}]
		if !ok {
			return fmt.Errorf("inspection of officer %d key %q not found after insert", rows[i].OfficerID, rows[i].IdempotencyKey)
		}
		rows[i].ID = id
	}
	return nil
}

// InspectionByKey returns the officer's inspection recorded under key.
func (db *DB) InspectionByKey(ctx context.Context, officerID int64, key string) (Inspection, error) {
	var in Inspection
	err := db.conn(ctx).Where("officer_id = ? AND idempotency_key = ?", officerID, key).Take(&in).Error
	return in, translate(err)
}

// InspectionByID returns one inspection or ErrNotFound.
func (db *DB) InspectionByID(ctx context.Context, id int64) (Inspection, error) {
	var in Inspection
	return in, translate(db.conn(ctx).Take(&in, id).Error)
}

// ListInspections returns a merchant's inspections, newest first, and the total.
func (db *DB) ListInspections(ctx context.Context, merchantID int64, limit, offset int) ([]Inspection, int64, error) {
	q := db.conn(ctx).Model(&Inspection{}).Where("merchant_id = ?", merchantID)
	return page[Inspection](q, "inspected_at DESC, id DESC", limit, offset)
}

// InspectionsByIDs returns the inspections with the given ids.
func (db *DB) InspectionsByIDs(ctx context.Context, ids []int64) ([]Inspection, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []Inspection
	return out, translate(db.conn(ctx).Where("id IN ?", ids).Find(&out).Error)
}
