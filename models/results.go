package models

import (
	"context"
	"reflect"
	"time"

	"gorm.io/gorm"
)

// CountyMerchant is what a county's cycle view needs of each ranked merchant.
type CountyMerchant struct {
	ID        int64
	Code      string
	Name      string
	RoadID    int64
	CreatedAt time.Time
}

// RankedMerchantsOfCounty lists by code the county's merchants that rank in
// a cycle that ends at ended (see BoardScope.Ended; zero: the active ones).
func (db *DB) RankedMerchantsOfCounty(ctx context.Context, countyID int64, ended time.Time) ([]CountyMerchant, error) {
	var out []CountyMerchant
	cond, args := BoardScope{CountyID: countyID, Ended: ended}.where()
	err := db.conn(ctx).Table("merchants m").Select("m.id, m.code, m.name, m.road_id, m.created_at").
		Where(cond, args...).Order("m.code").Scan(&out).Error
	return out, translate(err)
}

// ScoresOfCounty returns the score rows of the county's merchants in the cycles.
func (db *DB) ScoresOfCounty(ctx context.Context, countyID int64, cycles []string) ([]Score, error) {
	var out []Score
	err := db.conn(ctx).Raw(`SELECT s.* FROM scores s JOIN merchants m ON m.id = s.merchant_id
		WHERE m.county_id = ? AND s.cycle IN ?`, countyID, cycles).Scan(&out).Error
	return out, translate(err)
}

// InspectedMerchants returns the ids of the county's merchants inspected in the cycle.
func (db *DB) InspectedMerchants(ctx context.Context, countyID int64, cycle string) (map[int64]bool, error) {
	var ids []int64
	err := db.conn(ctx).Raw(`SELECT DISTINCT i.merchant_id FROM inspections i JOIN merchants m ON m.id = i.merchant_id
		WHERE m.county_id = ? AND i.cycle = ?`, countyID, cycle).Scan(&ids).Error
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, translate(err)
}

// ClosedCycle marks a cycle whose results are frozen.
type ClosedCycle struct {
	Cycle    string `gorm:"primaryKey"`
	ClosedAt time.Time
	ClosedBy string
}

// MerchantResult is a merchant's frozen result of a closed cycle.
type MerchantResult struct {
	Cycle      string `gorm:"primaryKey"`
	MerchantID int64  `gorm:"primaryKey"`
	CountyID   int64
	RoadID     int64
	Code       string
	Name       string
	RoadName   string
	Score      int
	Star       int
	RatedStar  int
	Deductions int
	Bonuses    int
	Serious    int
	Inspected  bool
}

// TableName keeps the table name explicit.
func (MerchantResult) TableName() string { return "cycle_merchant_results" }

// RoadResult is a road's frozen result of a closed cycle.
type RoadResult struct {
	Cycle      string `gorm:"primaryKey"`
	RoadID     int64  `gorm:"primaryKey"`
	CountyID   int64
	Name       string
	DemoStatus string
	ScoreCents int64
	Merchants  int
	Qualified  bool
	Failing    string
	Metrics    string
}

// TableName keeps the table name explicit.
func (RoadResult) TableName() string { return "cycle_road_results" }

// CountyResult is a county as it was when a cycle closed.
type CountyResult struct {
	Cycle          string `gorm:"primaryKey"`
	CountyID       int64  `gorm:"primaryKey"`
	Code           string
	Name           string
	DemoRoadTarget int
}

// TableName keeps the table name explicit.
func (CountyResult) TableName() string { return "cycle_county_results" }

// FrozenCycle is everything a closed cycle keeps.
type FrozenCycle struct {
	Counties  []CountyResult
	Merchants []MerchantResult
	Roads     []RoadResult
}

// CloseCycle freezes a cycle's results in one transaction. The closed_cycles
// row is written first, so a second closer (another instance) waits on its key
// and then fails with ErrDuplicate: one instance closes, the others step aside.
func (db *DB) CloseCycle(ctx context.Context, c ClosedCycle, build func(ctx context.Context) (FrozenCycle, error)) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if err := translate(db.conn(ctx).Create(&c).Error); err != nil {
			return err
		}
		f, err := build(ctx)
		if err != nil {
			return err
		}
		return insertAll(db.conn(ctx), db.rowsPerInsert(), f.Counties, f.Merchants, f.Roads)
	})
}

// insertAll inserts each non-empty slice of rows, batch rows per statement.
func insertAll(tx *gorm.DB, batch int, slices ...any) error {
	for _, rows := range slices {
		if reflect.ValueOf(rows).Len() == 0 {
			continue
		}
		if err := translate(tx.CreateInBatches(rows, batch).Error); err != nil {
			return err
		}
	}
	return nil
}

// FrozenCounty returns a county as it was when the cycle closed; ErrNotFound
// for cycles closed before counties were kept.
func (db *DB) FrozenCounty(ctx context.Context, cycle string, countyID int64) (CountyResult, error) {
	var c CountyResult
	return c, translate(db.conn(ctx).Where("cycle = ? AND county_id = ?", cycle, countyID).Take(&c).Error)
}

// ClosedCycleByName returns the closure of a cycle or ErrNotFound.
func (db *DB) ClosedCycleByName(ctx context.Context, cycle string) (ClosedCycle, error) {
	var c ClosedCycle
	return c, translate(db.conn(ctx).Where("cycle = ?", cycle).Take(&c).Error)
}

// FrozenResults returns a county's frozen results of a closed cycle, merchants by
// score then code, roads by id.
func (db *DB) FrozenResults(ctx context.Context, cycle string, countyID int64) ([]MerchantResult, []RoadResult, error) {
	var ms []MerchantResult
	if err := db.conn(ctx).Where("cycle = ? AND county_id = ?", cycle, countyID).Order("score DESC, code").Find(&ms).Error; err != nil {
		return nil, nil, translate(err)
	}
	var rs []RoadResult
	err := db.conn(ctx).Where("cycle = ? AND county_id = ?", cycle, countyID).Order("road_id").Find(&rs).Error
	return ms, rs, translate(err)
}

// frozenWhere is a scope's condition on a closed cycle's merchant results.
func frozenWhere(s BoardScope) (string, []any) {
	switch {
	case s.RoadID != 0:
		return " AND road_id = ?", []any{s.RoadID}
	case s.CountyID != 0:
		return " AND county_id = ?", []any{s.CountyID}
	}
	return "", nil
}

// FrozenBoardPage returns one page of a closed cycle's merchant ranking in a
// scope (score descending, then code), with how many the scope ranks and how
// many scored above the page's first line (for competition ranks).
func (db *DB) FrozenBoardPage(ctx context.Context, cycle string, s BoardScope, limit, offset int) (page []MerchantResult, total, above int, err error) {
	cond, args := frozenWhere(s)
	args = append([]any{cycle}, args...)
	q := db.conn(ctx).Model(&MerchantResult{}).Where("cycle = ?"+cond, args...)
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return nil, 0, 0, translate(err)
	}
	if err := db.conn(ctx).Where("cycle = ?"+cond, args...).Order("score DESC, code").Limit(limit).Offset(offset).Find(&page).Error; err != nil {
		return nil, 0, 0, translate(err)
	}
	if len(page) > 0 {
		var a int64
		err = db.conn(ctx).Model(&MerchantResult{}).Where("cycle = ?"+cond+" AND score > ?", append(args, page[0].Score)...).Count(&a).Error
		above = int(a)
	}
	return page, int(n), above, translate(err)
}

// EachFrozenMerchant streams every closed cycle's shop results to fn.
func (db *DB) EachFrozenMerchant(ctx context.Context, fn func(MerchantResult) error) error {
	return eachRow(db.conn(ctx).Model(&MerchantResult{}).Order("cycle, merchant_id"), fn)
}

// EachFrozenRoad streams every closed cycle's road results to fn.
func (db *DB) EachFrozenRoad(ctx context.Context, fn func(RoadResult) error) error {
	return eachRow(db.conn(ctx).Model(&RoadResult{}).Order("cycle, road_id"), fn)
}

// eachRow streams the rows of q to fn, one at a time.
func eachRow[T any](q *gorm.DB, fn func(T) error) error {
	rows, err := q.Rows()
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v T
		if err := q.ScanRows(rows, &v); err != nil {
			return translate(err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
