package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// PublicMerchant is a merchant with the names of its road and county, read in
// one query for the scan landing (GET /q/{token}), the hottest public path.
type PublicMerchant struct {
	Merchant
	RoadName   string
	CountyName string
}

// PublicMerchantByCode returns the merchant with the public code, joined with
// its road and county, or ErrNotFound.
func (db *DB) PublicMerchantByCode(ctx context.Context, code string) (PublicMerchant, error) {
	var out []PublicMerchant
	err := db.conn(ctx).Raw(`SELECT m.*, r.name AS road_name, c.name AS county_name
		FROM merchants m JOIN roads r ON r.id = m.road_id JOIN counties c ON c.id = m.county_id
		WHERE m.code = ?`, code).Scan(&out).Error
	if err != nil {
		return PublicMerchant{}, translate(err)
	}
	if len(out) == 0 {
		return PublicMerchant{}, ErrNotFound
	}
	return out[0], nil
}

// PlaqueRow is what a printed plaque shows of an active merchant.
type PlaqueRow struct {
	ID           int64
	Code         string
	Name         string
	RoadName     string
	QRGeneration int
	CreatedAt    time.Time
}

// PlaqueFilter selects the active merchants of a county, or of one road of it.
type PlaqueFilter struct {
	CountyID int64
	RoadID   int64 // 0: every road of the county
}

func (db *DB) plaqueQuery(ctx context.Context, f PlaqueFilter) *gorm.DB {
	q := db.conn(ctx).Table("merchants m").Joins("JOIN roads r ON r.id = m.road_id").
		Where("m.county_id = ? AND m.status = ?", f.CountyID, "active")
	if f.RoadID != 0 {
		q = q.Where("m.road_id = ?", f.RoadID)
	}
	return q
}

// CountPlaques counts the active merchants f selects.
func (db *DB) CountPlaques(ctx context.Context, f PlaqueFilter) (int64, error) {
	var n int64
	return n, translate(db.plaqueQuery(ctx, f).Count(&n).Error)
}

// ListPlaques returns up to limit of the active merchants f selects, by road
// name and then code (print sheets are cut and handed out road by road),
// skipping the first offset.
func (db *DB) ListPlaques(ctx context.Context, f PlaqueFilter, offset, limit int) ([]PlaqueRow, error) {
	var out []PlaqueRow
	err := db.plaqueQuery(ctx, f).Select(plaqueColumns).Order("r.name, m.code").Offset(offset).Limit(limit).Scan(&out).Error
	return out, translate(err)
}

const plaqueColumns = "m.id, m.code, m.name, r.name AS road_name, m.qr_generation, m.created_at"

// PlaqueCursor walks the active merchants of a PlaqueFilter in code order.
// It reads them in keyset batches (code > the last one seen) rather than
// through one open result set, so a slow download holds no connection between
// batches and only one batch is ever in memory.
type PlaqueCursor struct {
	db    *DB
	ctx   context.Context
	f     PlaqueFilter
	batch int
	buf   []PlaqueRow
	after string
	done  bool
}

// Plaques returns a cursor over the active merchants f selects, fetching
// batch rows at a time.
func (db *DB) Plaques(ctx context.Context, f PlaqueFilter, batch int) *PlaqueCursor {
	return &PlaqueCursor{db: db, ctx: ctx, f: f, batch: max(batch, 1)}
}

// Next returns the next merchant; ok is false after the last one.
func (c *PlaqueCursor) Next() (row PlaqueRow, ok bool, err error) {
	if len(c.buf) == 0 && !c.done {
		err := c.db.plaqueQuery(c.ctx, c.f).Where("m.code > ?", c.after).Select(plaqueColumns).
			Order("m.code").Limit(c.batch).Scan(&c.buf).Error
		if err != nil {
			return PlaqueRow{}, false, translate(err)
		}
		c.done = len(c.buf) < c.batch
	}
	if len(c.buf) == 0 {
		return PlaqueRow{}, false, nil
	}
	row, c.buf = c.buf[0], c.buf[1:]
	c.after = row.Code
	return row, true, nil
}
