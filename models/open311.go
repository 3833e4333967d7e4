package models

import (
	"context"
	"time"
)

// PublicCaseFilter selects cases for the public Open311 lists.
type PublicCaseFilter struct {
	Receipts  []string // nil: any
	RuleCodes []string // nil: any
	Open      *bool    // nil: any; true: neither closed nor dismissed
	From, To  time.Time
	Limit     int
}

// PublicCaseLine is a case with what the public may see of its shop.
type PublicCaseLine struct {
	Case
	MerchantName string
	RoadName     string
	CountyName   string
	Lat, Lng     *float64
}

// ListPublicCases returns the cases f selects, received in [From, To), the
// newest first.
func (db *DB) ListPublicCases(ctx context.Context, f PublicCaseFilter) ([]PublicCaseLine, error) {
	q := db.conn(ctx).Table("cases").Where("cases.received_at >= ? AND cases.received_at < ?", f.From, f.To)
	if f.Receipts != nil {
		q = q.Where("cases.receipt IN ?", f.Receipts)
	}
	if f.RuleCodes != nil {
		q = q.Where("cases.rule_code IN ?", f.RuleCodes)
	}
	if f.Open != nil {
		if *f.Open {
			q = q.Where("cases.status NOT IN ?", []string{CaseClosed, CaseDismissed})
		} else {
			q = q.Where("cases.status IN ?", []string{CaseClosed, CaseDismissed})
		}
	}
	out := []PublicCaseLine{}
	err := q.Joins("LEFT JOIN merchants ON merchants.id = cases.merchant_id").
		Joins("LEFT JOIN roads ON roads.id = cases.road_id").
		Joins("JOIN counties ON counties.id = cases.county_id").
		Select("cases.*, COALESCE(merchants.name, '') AS merchant_name, COALESCE(roads.name, '') AS road_name, " +
			"counties.name AS county_name, merchants.lat AS lat, merchants.lng AS lng").
		Order("cases.received_at DESC, cases.id DESC").Limit(f.Limit).Scan(&out).Error
	return out, translate(err)
}

// Open311Key is an api key of the Open311 endpoints; only its hash is kept.
type Open311Key struct {
	ID        int64
	Name      string
	KeyHash   string `json:"-"`
	CreatedBy int64
	CreatedAt time.Time
	RevokedAt *time.Time
}

// TableName is open311_keys.
func (Open311Key) TableName() string { return "open311_keys" }

// CreateOpen311Key stores k.
func (db *DB) CreateOpen311Key(ctx context.Context, k *Open311Key) error {
	return translate(db.conn(ctx).Create(k).Error)
}

// Open311KeyByHash returns the key whose hash is h (revoked ones too).
func (db *DB) Open311KeyByHash(ctx context.Context, h string) (Open311Key, error) {
	var k Open311Key
	return k, translate(db.conn(ctx).Where("key_hash = ?", h).Take(&k).Error)
}

// Open311Keys lists the keys, newest first.
func (db *DB) Open311Keys(ctx context.Context) ([]Open311Key, error) {
	out := []Open311Key{}
	return out, translate(db.conn(ctx).Order("id DESC").Find(&out).Error)
}

// RevokeOpen311Key revokes key id at t; an unknown or revoked key is ErrNotFound.
func (db *DB) RevokeOpen311Key(ctx context.Context, id int64, t time.Time) error {
	res := db.conn(ctx).Model(&Open311Key{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", t)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// NearbyMerchant is an active shop with its position.
type NearbyMerchant struct {
	ID, CountyID, RoadID int64
	Lat, Lng             float64
}

// ActiveMerchantsInBox returns the active shops (of county, unless 0) whose
// position lies in the box.
func (db *DB) ActiveMerchantsInBox(ctx context.Context, countyID int64, minLat, maxLat, minLng, maxLng float64) ([]NearbyMerchant, error) {
	q := db.conn(ctx).Table("merchants").Select("id, county_id, road_id, lat, lng").
		Where("status = ? AND lat BETWEEN ? AND ? AND lng BETWEEN ? AND ?", MerchantActive, minLat, maxLat, minLng, maxLng)
	if countyID != 0 {
		q = q.Where("county_id = ?", countyID)
	}
	out := []NearbyMerchant{}
	return out, translate(q.Limit(1000).Scan(&out).Error)
}
