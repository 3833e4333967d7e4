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
