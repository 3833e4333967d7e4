package models

import (
	"context"
	"database/sql"
	"time"
)

// Notice statuses.
const (
	NoticeOpen      = "open"
	NoticeRectified = "rectified"
)

// Notice is a rectification notice (限期整改通知): a problem a merchant must fix
// by DueAt, confirmed by an officer at re-inspection (复查).
type Notice struct {
	ID             int64
	MerchantID     int64
	CountyID       int64
	RuleCode       string
	Note           string
	PhotoIDs       string // comma-separated photo ids
	Status         string
	IssuedBy       int64
	IssuedAt       time.Time
	DueAt          time.Time
	ResolvedBy     *int64
	ResolvedAt     *time.Time
	ResolutionNote string
	// The merchant's report that it fixed the shop front (已整改), which an
	// officer confirms at re-inspection; it moves nothing by itself.
	ReportedAt     *time.Time
	ReportNote     string
	ReportPhotoIDs string
}

// CreateNotice stores n.
func (db *DB) CreateNotice(ctx context.Context, n *Notice) error {
	return translate(db.conn(ctx).Create(n).Error)
}

// NoticeByID returns one notice or ErrNotFound.
func (db *DB) NoticeByID(ctx context.Context, id int64) (Notice, error) {
	var n Notice
	return n, translate(db.conn(ctx).Take(&n, id).Error)
}

// NoticesOf returns one page of a merchant's notices, newest first, and the total.
func (db *DB) NoticesOf(ctx context.Context, merchantID int64, limit, offset int) ([]Notice, int64, error) {
	return page[Notice](db.conn(ctx).Model(&Notice{}).Where("merchant_id = ?", merchantID), "id DESC", limit, offset)
}

// ResolveNotice marks an open notice rectified; one resolved meanwhile is ErrNotFound.
func (db *DB) ResolveNotice(ctx context.Context, id, by int64, at time.Time, note string) error {
	res := db.conn(ctx).Exec(`UPDATE notices SET status = ?, resolved_by = ?, resolved_at = ?, resolution_note = ?
		WHERE id = ? AND status = ?`, NoticeRectified, by, at, note, id, NoticeOpen)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// NoticesDueBefore returns the county's notices whose deadline is before
// limit and that were still open at from or later (never resolved, or
// resolved after from): the candidates for being overdue within [from, limit).
func (db *DB) NoticesDueBefore(ctx context.Context, countyID int64, from, limit time.Time) ([]Notice, error) {
	var out []Notice
	err := db.conn(ctx).Where("county_id = ? AND due_at < ? AND (resolved_at IS NULL OR resolved_at > ?)", countyID, limit, from).
		Order("id").Find(&out).Error
	return out, translate(err)
}

// NoticeFilter selects the notices of a worklist.
type NoticeFilter struct {
	CountyIDs  []int64 // nil: every county
	RoadID     int64   // the shop's road now; 0: any
	MerchantID int64   // 0: any
	Status     string  // NoticeOpen or NoticeRectified; "": both
	DueBefore  *time.Time
	Limit      int
	Offset     int
}

// NoticeLine is a notice with the shop it was given to, for worklists.
type NoticeLine struct {
	Notice
	MerchantCode string
	MerchantName string
	RoadID       int64
	RoadName     string
}

// ListNotices returns one page of the notices f selects, and the total: open
// ones by deadline (the most urgent first), rectified ones newest confirmed
// first, both together newest issued first.
func (db *DB) ListNotices(ctx context.Context, f NoticeFilter) ([]NoticeLine, int64, error) {
	q := db.conn(ctx).Table("notices").Joins("JOIN merchants ON merchants.id = notices.merchant_id")
	if f.CountyIDs != nil {
		q = q.Where("notices.county_id IN ?", f.CountyIDs)
	}
	if f.RoadID != 0 {
		q = q.Where("merchants.road_id = ?", f.RoadID)
	}
	if f.MerchantID != 0 {
		q = q.Where("notices.merchant_id = ?", f.MerchantID)
	}
	if f.Status != "" {
		q = q.Where("notices.status = ?", f.Status)
	}
	if f.DueBefore != nil {
		q = q.Where("notices.due_at < ?", *f.DueBefore)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err)
	}
	order := "notices.id DESC"
	switch f.Status {
	case NoticeOpen:
		order = "notices.due_at, notices.id"
	case NoticeRectified:
		order = "notices.resolved_at DESC, notices.id DESC"
	}
	out := []NoticeLine{}
	err := q.Joins("JOIN roads ON roads.id = merchants.road_id").
		Select("notices.*, merchants.code AS merchant_code, merchants.name AS merchant_name, merchants.road_id AS road_id, roads.name AS road_name").
		Order(order).Limit(f.Limit).Offset(f.Offset).Scan(&out).Error
	return out, total, translate(err)
}

// CountOpenNotices counts a county's open notices, and those of them due
// before now (overdue), as ListNotices would total them.
func (db *DB) CountOpenNotices(ctx context.Context, countyID int64, now time.Time) (open, overdue int, err error) {
	var row struct {
		Open    int
		Overdue sql.NullInt64
	}
	err = db.conn(ctx).Raw(`SELECT COUNT(*) AS open, SUM(CASE WHEN due_at < ? THEN 1 ELSE 0 END) AS overdue
		FROM notices WHERE county_id = ? AND status = ?`, now.UTC(), countyID, NoticeOpen).Scan(&row).Error
	return row.Open, int(row.Overdue.Int64), translate(err)
}

// ReportNoticeFixed records the merchant's report that an open notice was
// fixed; a notice confirmed meanwhile is ErrNotFound. A later report replaces
// an earlier one (a better photo), the officer's confirmation stays needed.
func (db *DB) ReportNoticeFixed(ctx context.Context, id int64, at time.Time, note, photoIDs string) error {
	res := db.conn(ctx).Exec(`UPDATE notices SET reported_at = ?, report_note = ?, report_photo_ids = ?
		WHERE id = ? AND status = ?`, at.UTC(), note, photoIDs, id, NoticeOpen)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
