package models

import (
	"context"
	"time"
)

// SpotCheck is one random audit (抽查) of a county's cycle: a sample of shops per
// road drawn with Seed by Algorithm, visited by AuditorID. Draw holds, as
// JSON, each road's size asked and the number of shops drawn from.
type SpotCheck struct {
	ID        int64
	CountyID  int64
	Cycle     string
	Seed      int64
	Algorithm string
	Draw      string
	AuditorID int64
	Note      string
	CreatedBy int64
	CreatedAt time.Time
}

// TableName keeps the random audits in table audits.
func (SpotCheck) TableName() string { return "audits" }

// SpotCheckShop is one shop of an audit's sample and the auditor's visit
// (VisitedAt nil: not yet visited).
type SpotCheckShop struct {
	AuditID    int64 `gorm:"primaryKey;autoIncrement:false"`
	MerchantID int64 `gorm:"primaryKey;autoIncrement:false"`
	CountyID   int64
	RoadID     int64
	DrawOrder  int
	VisitedAt  *time.Time
	VisitedBy  *int64
	Note       string
}

// TableName keeps the samples in table audit_shops.
func (SpotCheckShop) TableName() string { return "audit_shops" }

// SpotCheckRecord is one catalogue item an auditor found at a visit. It is
// never a ledger entry: audits move no points.
type SpotCheckRecord struct {
	ID         int64
	AuditID    int64
	MerchantID int64
	CountyID   int64
	RuleCode   string
	Points     int // the deduction's magnitude, > 0
	Note       string
	RecordedBy int64
	RecordedAt time.Time
}

// TableName keeps the auditors' findings in table audit_records.
func (SpotCheckRecord) TableName() string { return "audit_records" }

// CreateSpotCheck stores an audit and its sample (ctx should carry the
// transaction: both or neither).
func (db *DB) CreateSpotCheck(ctx context.Context, a *SpotCheck, sample []SpotCheckShop) error {
	if err := translate(db.conn(ctx).Create(a).Error); err != nil {
		return err
	}
	for i := range sample {
		sample[i].AuditID = a.ID
	}
	if len(sample) == 0 {
		return nil
	}
	return translate(db.conn(ctx).CreateInBatches(&sample, db.rowsPerInsert()).Error)
}

// SpotCheckByID returns one audit or ErrNotFound.
func (db *DB) SpotCheckByID(ctx context.Context, id int64) (SpotCheck, error) {
	var a SpotCheck
	return a, translate(db.conn(ctx).Take(&a, id).Error)
}

// SpotCheckFilter selects audits: of the counties (nil: all), of one auditor (0: any).
type SpotCheckFilter struct {
	CountyIDs []int64
	AuditorID int64
	Limit     int
	Offset    int
}

// SpotCheckLine is an audit with the size of its sample and how many shops of it
// were visited.
type SpotCheckLine struct {
	SpotCheck
	Shops   int
	Visited int
}

// ListSpotChecks returns one page of audits, newest first, and the total.
func (db *DB) ListSpotChecks(ctx context.Context, f SpotCheckFilter) ([]SpotCheckLine, int64, error) {
	q := db.conn(ctx).Table("audits")
	if f.CountyIDs != nil {
		q = q.Where("county_id IN ?", f.CountyIDs)
	}
	if f.AuditorID != 0 {
		q = q.Where("auditor_id = ?", f.AuditorID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err)
	}
	out := []SpotCheckLine{}
	err := q.Select(`audits.*,
		(SELECT COUNT(*) FROM audit_shops s WHERE s.audit_id = audits.id) AS shops,
		(SELECT COUNT(*) FROM audit_shops s WHERE s.audit_id = audits.id AND s.visited_at IS NOT NULL) AS visited`).
		Order("id DESC").Limit(f.Limit).Offset(f.Offset).Scan(&out).Error
	return out, total, translate(err)
}

// DrawPopulation returns the county's active shops as (id, road) pairs by
// id: what a draw chooses from.
func (db *DB) DrawPopulation(ctx context.Context, countyID int64) ([]Merchant, error) {
	var out []Merchant
	err := db.conn(ctx).Select("id", "road_id").Where("county_id = ? AND status = ?", countyID, MerchantActive).
		Order("id").Find(&out).Error
	return out, translate(err)
}

// SpotCheckShopLine is a sampled shop with what the auditor needs to find it:
// its code, name, address, status and road. Never its score or records.
type SpotCheckShopLine struct {
	SpotCheckShop
	Code     string
	Name     string
	Address  string
	Status   string
	RoadName string
}

// SpotCheckSample returns an audit's sample by road and draw order (merchantID
// 0), or the one shop merchantID (ErrNotFound when it is not in the sample).
func (db *DB) SpotCheckSample(ctx context.Context, auditID, merchantID int64) ([]SpotCheckShopLine, error) {
	q := db.conn(ctx).Table("audit_shops").
		Joins("JOIN merchants ON merchants.id = audit_shops.merchant_id").
		Joins("JOIN roads ON roads.id = audit_shops.road_id").
		Where("audit_shops.audit_id = ?", auditID)
	if merchantID != 0 {
		q = q.Where("audit_shops.merchant_id = ?", merchantID)
	}
	out := []SpotCheckShopLine{}
	err := q.Select(`audit_shops.*, merchants.code AS code, merchants.name AS name, merchants.address AS address,
		merchants.status AS status, roads.name AS road_name`).
		Order("audit_shops.road_id, audit_shops.draw_order").Scan(&out).Error
	if err == nil && merchantID != 0 && len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, translate(err)
}

// RecordSpotCheckVisit marks a sampled shop visited and stores what the auditor
// found, in one transaction. A shop visited meanwhile (or not in the
// sample) is ErrNotFound and stores nothing.
func (db *DB) RecordSpotCheckVisit(ctx context.Context, auditID, merchantID, by int64, at time.Time, note string, records []SpotCheckRecord) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		res := db.conn(ctx).Exec(`UPDATE audit_shops SET visited_at = ?, visited_by = ?, note = ?
			WHERE audit_id = ? AND merchant_id = ? AND visited_at IS NULL`, at.UTC(), by, note, auditID, merchantID)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if len(records) == 0 {
			return nil
		}
		return translate(db.conn(ctx).Create(&records).Error)
	})
}

// SpotCheckRecordsOf returns the records of an audit (of one shop when
// merchantID is not 0), in order.
func (db *DB) SpotCheckRecordsOf(ctx context.Context, auditID, merchantID int64) ([]SpotCheckRecord, error) {
	q := db.conn(ctx).Where("audit_id = ?", auditID)
	if merchantID != 0 {
		q = q.Where("merchant_id = ?", merchantID)
	}
	var out []SpotCheckRecord
	return out, translate(q.Order("id").Find(&out).Error)
}

// Finding is one item somebody found on a shop in a cycle: an auditor's
// audit record, or an officer's deduction (RuleCode "" for a visit or an
// inspection that found no deduction item). Points are magnitudes.
type Finding struct {
	Cycle      string
	MerchantID int64
	OfficerID  int64 // the inspecting officer (officers' findings only)
	RuleCode   string
	Points     int
}

// SpotCheckFindings returns what the county's audits of cycles from..to found
// at their visited shops: one row per record, and one with no item for a
// visit that found nothing.
func (db *DB) SpotCheckFindings(ctx context.Context, countyID int64, from, to string) ([]Finding, error) {
	out := []Finding{}
	err := db.conn(ctx).Raw(`SELECT a.cycle AS cycle, s.merchant_id AS merchant_id,
			COALESCE(r.rule_code, '') AS rule_code, COALESCE(r.points, 0) AS points
		FROM audits a
		JOIN audit_shops s ON s.audit_id = a.id AND s.visited_at IS NOT NULL
		LEFT JOIN audit_records r ON r.audit_id = s.audit_id AND r.merchant_id = s.merchant_id
		WHERE a.county_id = ? AND a.cycle BETWEEN ? AND ?
		ORDER BY a.cycle, s.merchant_id, r.id`, countyID, from, to).Scan(&out).Error
	return out, translate(err)
}

// InspectionFindings returns what the officers' inspections of the shops in
// cycles from..to found: one row per deduction entry an inspection made, and
// one with no item for an inspection that made none (a bonus or a clean
// visit). Entries are as the officer recorded them, reversed or not.
func (db *DB) InspectionFindings(ctx context.Context, merchantIDs []int64, from, to string) ([]Finding, error) {
	out := []Finding{}
	if len(merchantIDs) == 0 {
		return out, nil
	}
	err := db.conn(ctx).Raw(`SELECT i.cycle AS cycle, i.merchant_id AS merchant_id, i.officer_id AS officer_id,
			COALESCE(l.rule_code, '') AS rule_code, COALESCE(-l.points, 0) AS points
		FROM inspections i
		LEFT JOIN ledger_entries l ON l.inspection_id = i.id AND l.kind = ?
		WHERE i.merchant_id IN ? AND i.cycle BETWEEN ? AND ?
		ORDER BY i.cycle, i.merchant_id, i.id, l.id`, KindDeduction, merchantIDs, from, to).Scan(&out).Error
	return out, translate(err)
}
