package models

import (
	"context"
	"time"
)

// County is a 区县, keyed by its GB/T 2260 division code.
type County struct {
	ID             int64
	Code           string
	Name           string
	DemoRoadTarget int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// CreateCounty stores c and sets its id. A taken code is ErrDuplicate.
func (db *DB) CreateCounty(ctx context.Context, c *County) error {
	return translate(db.conn(ctx).Create(c).Error)
}

// CountyByID returns one county or ErrNotFound.
func (db *DB) CountyByID(ctx context.Context, id int64) (County, error) {
	var c County
	err := db.conn(ctx).Take(&c, id).Error
	return c, translate(err)
}

// CountyByCode returns one county or ErrNotFound.
func (db *DB) CountyByCode(ctx context.Context, code string) (County, error) {
	var c County
	err := db.conn(ctx).Where("code = ?", code).Take(&c).Error
	return c, translate(err)
}

// ListCounties returns the counties with the given ids (all when ids is nil), by code.
func (db *DB) ListCounties(ctx context.Context, ids []int64) ([]County, error) {
	q := db.conn(ctx).Order("code")
	if ids != nil {
		q = q.Where("id IN ?", ids)
	}
	var out []County
	return out, translate(q.Find(&out).Error)
}

// UpdateCounty writes the named columns of county id.
func (db *DB) UpdateCounty(ctx context.Context, id int64, cols map[string]any) error {
	return db.updateColumns(ctx, &County{}, id, cols)
}

// updateColumns is the one partial-update path: it names its columns, stamps
// updated_at and reports ErrNotFound for a missing row.
func (db *DB) updateColumns(ctx context.Context, model any, id int64, cols map[string]any) error {
	if len(cols) == 0 {
		return nil
	}
	cols["updated_at"] = time.Now().UTC().Truncate(time.Millisecond)
	res := db.conn(ctx).Model(model).Where("id = ?", id).UpdateColumns(cols)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
