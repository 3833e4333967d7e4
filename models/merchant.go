package models

import (
	"context"
	"time"
)

// Merchant is a shop with a plaque (一户一码). Code is public and random; ID is internal.
type Merchant struct {
	ID           int64
	Code         string
	CountyID     int64
	RoadID       int64
	Name         string
	USCC         *string `gorm:"column:uscc"`
	Category     string
	OwnerName    string
	Phone        string
	Address      string
	Lat          *float64
	Lng          *float64
	Status       string
	QRGeneration int `gorm:"column:qr_generation"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
	ClosedAt     *time.Time // when Status became closed; nil while active
}

// MerchantFilter narrows ListMerchants. CountyIDs nil means every county.
type MerchantFilter struct {
	CountyIDs []int64
	RoadID    int64
	Status    string
	Query     string // matches name, code, address or USCC
	Limit     int
	Offset    int
}

// CreateMerchant stores m. A taken code or USCC is ErrDuplicate.
func (db *DB) CreateMerchant(ctx context.Context, m *Merchant) error {
	return translate(db.conn(ctx).Create(m).Error)
}

// CreateMerchants stores many merchants in batches, inside the caller's transaction.
func (db *DB) CreateMerchants(ctx context.Context, ms []Merchant) error {
	return translate(db.conn(ctx).CreateInBatches(ms, db.rowsPerInsert()).Error)
}

// MerchantByID returns one merchant or ErrNotFound.
func (db *DB) MerchantByID(ctx context.Context, id int64) (Merchant, error) {
	var m Merchant
	return m, translate(db.conn(ctx).Take(&m, id).Error)
}

// MerchantByCode returns the merchant with the public code or ErrNotFound.
func (db *DB) MerchantByCode(ctx context.Context, code string) (Merchant, error) {
	var m Merchant
	return m, translate(db.conn(ctx).Where("code = ?", code).Take(&m).Error)
}

// ListMerchants returns one page of merchants, by id, and the total.
func (db *DB) ListMerchants(ctx context.Context, f MerchantFilter) ([]Merchant, int64, error) {
	q := db.conn(ctx).Model(&Merchant{})
	if f.CountyIDs != nil {
		q = q.Where("county_id IN ?", f.CountyIDs)
	}
	if f.RoadID != 0 {
		q = q.Where("road_id = ?", f.RoadID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Query != "" {
		like := "%" + escapeLike(f.Query) + "%"
		q = q.Where("name LIKE ? ESCAPE '!' OR code = ? OR address LIKE ? ESCAPE '!' OR uscc = ?", like, f.Query, like, f.Query)
	}
	return page[Merchant](q, "id", f.Limit, f.Offset)
}

// escapeLike makes user text literal inside a LIKE pattern (escape char '!').
func escapeLike(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '!' {
			out = append(out, '!')
		}
		out = append(out, r)
	}
	return string(out)
}

// UpdateMerchant writes the named columns of merchant id.
func (db *DB) UpdateMerchant(ctx context.Context, id int64, cols map[string]any) error {
	return db.updateColumns(ctx, &Merchant{}, id, cols)
}

// BumpQRGeneration increments the plaque generation so older plaques stop resolving.
func (db *DB) BumpQRGeneration(ctx context.Context, id int64) (int, error) {
	var gen int
	err := db.InTx(ctx, func(ctx context.Context) error {
		res := db.conn(ctx).Exec("UPDATE merchants SET qr_generation = qr_generation + 1, updated_at = ? WHERE id = ?",
			time.Now().UTC().Truncate(time.Millisecond), id)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return translate(db.conn(ctx).Model(&Merchant{}).Where("id = ?", id).Pluck("qr_generation", &gen).Error)
	})
	return gen, err
}

// MerchantsByIDs returns the merchants with the given ids.
func (db *DB) MerchantsByIDs(ctx context.Context, ids []int64) ([]Merchant, error) {
	var out []Merchant
	return out, translate(db.conn(ctx).Where("id IN ?", ids).Find(&out).Error)
}

// MerchantsByUSCC returns the merchants registered with any of the codes, by code.
func (db *DB) MerchantsByUSCC(ctx context.Context, usccs []string) (map[string]Merchant, error) {
	out := make(map[string]Merchant, len(usccs))
	for start := 0; start < len(usccs); start += 1000 {
		end := min(start+1000, len(usccs))
		var ms []Merchant
		if err := db.conn(ctx).Where("uscc IN ?", usccs[start:end]).Find(&ms).Error; err != nil {
			return nil, translate(err)
		}
		for _, m := range ms {
			out[*m.USCC] = m
		}
	}
	return out, nil
}
