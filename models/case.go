package models

import (
	"context"
	"strconv"
	"time"
)

// Case statuses (随手拍 cases, after GB/T 30428.8, simplified). A case is open
// until it is closed or dismissed; a reopened case goes back to accepted.
const (
	CaseReceived   = "received"   // 受理
	CaseAccepted   = "accepted"   // 立案
	CaseDismissed  = "dismissed"  // 不予立案
	CaseDispatched = "dispatched" // 派遣
	CaseReturned   = "returned"   // 回退: back to the county for a new dispatch
	CaseHandled    = "handled"    // 处置
	CaseVerified   = "verified"   // 核查
	CaseClosed     = "closed"     // 结案
)

// Case sources.
const (
	CaseFromPlaque  = "plaque"
	CaseFromOpen311 = "open311"
)

// Case outcomes, recorded when the case is handled.
const (
	OutcomeInspection = "inspection"
	OutcomeNotice     = "notice"
	OutcomeNothing    = "nothing"
)

// CaseOther is the rule code of a report of no catalogue item (其他).
const CaseOther = "OTHER"

// Case is a citizen's report (and the later reports that joined it) with its
// workflow state.
type Case struct {
	ID           int64
	Receipt      string // the public follow-up code
	CountyID     int64
	MerchantID   *int64 // nil: no shop (the county's queue)
	RoadID       *int64
	RuleCode     string // a deduction item's code, or CaseOther
	Status       string
	Source       string
	Note         string // the first report's note
	PhotoID      *int64 // the first report's photo
	Reports      int    // reports joined, the first included
	OfficerID    *int64 // dispatched to; nil: the county's queue
	DueAt        *time.Time
	Extended     bool
	ReceivedAt   time.Time
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
	ClosedAt     *time.Time
	OnTime       *bool
	Reopened     bool
	InspectionID *int64
	NoticeID     *int64
	Outcome      string
	// OpenKey is "merchant:rule" while the case is open and has a shop; its
	// unique index keeps one open case per shop and item.
	OpenKey *string
}

// CaseReport is one citizen report of a case. Phone is for the county office only.
type CaseReport struct {
	ID         int64
	CaseID     int64
	Phone      string
	Note       string
	PhotoID    *int64
	Client     string // hash of the client address
	Device     string // hash of the device cookie
	ReportedAt time.Time
	// NewPhoto, when set, is the report's photo (a citizen's) to store with
	// it, in its transaction: CreateCase and JoinCase insert it and set
	// PhotoID, so a report refused or rolled back leaves no photo row.
	NewPhoto *Photo `gorm:"-"`
}

// storePhoto inserts r's new photo, if any, and points r at it. A retried
// transaction inserts a copy (the failed attempt's id was rolled back).
func (db *DB) storePhoto(ctx context.Context, r *CaseReport) error {
	if r.NewPhoto == nil {
		return nil
	}
	p := *r.NewPhoto
	p.ID = 0
	if err := db.CreatePhoto(ctx, &p); err != nil {
		return err
	}
	r.PhotoID = &p.ID
	return nil
}

// CaseEvent is one step of a case's workflow; ActorID nil is the public reporter.
type CaseEvent struct {
	ID         int64
	CaseID     int64
	Action     string
	FromStatus string
	ToStatus   string
	ActorID    *int64
	Note       string
	At         time.Time
}

// CaseOpenKey is the OpenKey of an open case of a shop and item.
func CaseOpenKey(merchantID int64, ruleCode string) string {
	return strconv.FormatInt(merchantID, 10) + ":" + ruleCode
}

// CreateCase stores a new case with its first report (and the report's new
// photo, the case's photo) and event, in one transaction. Another open case
// of the same shop and item is ErrDuplicate (naming uq_cases_open_key), as
// is a receipt already given.
func (db *DB) CreateCase(ctx context.Context, c *Case, r *CaseReport, e *CaseEvent) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if err := db.storePhoto(ctx, r); err != nil {
			return err
		}
		if r.NewPhoto != nil {
			c.PhotoID = r.PhotoID
		}
		if err := db.conn(ctx).Create(c).Error; err != nil {
			return translate(err)
		}
		r.CaseID, e.CaseID = c.ID, c.ID
		if err := db.conn(ctx).Create(r).Error; err != nil {
			return translate(err)
		}
		return translate(db.conn(ctx).Create(e).Error)
	})
}

// OpenCaseOf returns the open case of a shop and item, or ErrNotFound.
func (db *DB) OpenCaseOf(ctx context.Context, merchantID int64, ruleCode string) (Case, error) {
	var c Case
	return c, translate(db.conn(ctx).Where("open_key = ?", CaseOpenKey(merchantID, ruleCode)).Take(&c).Error)
}

// JoinCase adds a report (with its new photo, which becomes the case's photo
// when it has none yet) to an open case and counts it; a case closed or
// dismissed meanwhile is ErrNotFound.
func (db *DB) JoinCase(ctx context.Context, caseID int64, r *CaseReport) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if err := db.storePhoto(ctx, r); err != nil {
			return err
		}
		res := db.conn(ctx).Exec(`UPDATE cases SET reports = reports + 1, updated_at = ?, photo_id = COALESCE(photo_id, ?)
			WHERE id = ? AND open_key IS NOT NULL`, r.ReportedAt, r.PhotoID, caseID)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		r.CaseID = caseID
		return translate(db.conn(ctx).Create(r).Error)
	})
}

// SetInspectionPhotos replaces an inspection's evidence list, if it is still
// from (else ErrNotFound, nothing written). Only handling a case does this,
// adding the case's photo, with the case's transition in the same
// transaction: the case's row changing bumps the county's change version
// (its trigger), so pages showing the inspection are read again.
func (db *DB) SetInspectionPhotos(ctx context.Context, inspectionID int64, from, to string) error {
	res := db.conn(ctx).Model(&Inspection{}).Where("id = ? AND photo_ids = ?", inspectionID, from).Update("photo_ids", to)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// CaseByID returns one case or ErrNotFound.
func (db *DB) CaseByID(ctx context.Context, id int64) (Case, error) {
	var c Case
	return c, translate(db.conn(ctx).Take(&c, id).Error)
}

// CaseByReceipt returns the case with the receipt or ErrNotFound.
func (db *DB) CaseByReceipt(ctx context.Context, receipt string) (Case, error) {
	var c Case
	return c, translate(db.conn(ctx).Where("receipt = ?", receipt).Take(&c).Error)
}

// CaseReports returns a case's reports, first first.
func (db *DB) CaseReports(ctx context.Context, caseID int64) ([]CaseReport, error) {
	var out []CaseReport
	return out, translate(db.conn(ctx).Where("case_id = ?", caseID).Order("id").Find(&out).Error)
}

// CaseEvents returns a case's events, oldest first.
func (db *DB) CaseEvents(ctx context.Context, caseID int64) ([]CaseEvent, error) {
	var out []CaseEvent
	return out, translate(db.conn(ctx).Where("case_id = ?", caseID).Order("id").Find(&out).Error)
}

// CaseTransition moves a case from one status to another (possibly the same,
// for an extension) and records the event.
type CaseTransition struct {
	CaseID int64
	From   string // the status the case must still be in
	Event  CaseEvent
	// Set holds the other columns to write (due_at, officer_id, …).
	Set map[string]any
}

// TransitionCase applies t in one transaction: the case's row only if it is
// still in t.From (UPDATE … WHERE id = ? AND status = ?), then its event. A
// case that moved meanwhile (or none) is ErrNotFound, and nothing is written.
func (db *DB) TransitionCase(ctx context.Context, t CaseTransition) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		cols := map[string]any{"status": t.Event.ToStatus, "updated_at": t.Event.At}
		for k, v := range t.Set {
			cols[k] = v
		}
		res := db.conn(ctx).Model(&Case{}).Where("id = ? AND status = ?", t.CaseID, t.From).Updates(cols)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		e := t.Event
		e.CaseID, e.FromStatus = t.CaseID, t.From
		return translate(db.conn(ctx).Create(&e).Error)
	})
}

// CaseFilter selects the cases of a list.
type CaseFilter struct {
	CountyIDs []int64 // nil: every county
	Statuses  []string
	OfficerID int64 // 0: any
	ID        int64 // 0: any
	Limit     int
	Offset    int
}

// CaseLine is a case with its shop and road, for lists.
type CaseLine struct {
	Case
	MerchantCode string
	MerchantName string
	RoadName     string
}

// ListCases returns one page of the cases f selects, and the total: those
// with a deadline by it (the most urgent first), then the others oldest first.
func (db *DB) ListCases(ctx context.Context, f CaseFilter) ([]CaseLine, int64, error) {
	q := db.conn(ctx).Table("cases")
	if f.CountyIDs != nil {
		q = q.Where("cases.county_id IN ?", f.CountyIDs)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("cases.status IN ?", f.Statuses)
	}
	if f.OfficerID != 0 {
		q = q.Where("cases.officer_id = ?", f.OfficerID)
	}
	if f.ID != 0 {
		q = q.Where("cases.id = ?", f.ID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err)
	}
	out := []CaseLine{}
	err := q.Joins("LEFT JOIN merchants ON merchants.id = cases.merchant_id").
		Joins("LEFT JOIN roads ON roads.id = cases.road_id").
		Select("cases.*, COALESCE(merchants.code, '') AS merchant_code, COALESCE(merchants.name, '') AS merchant_name, COALESCE(roads.name, '') AS road_name").
		Order("CASE WHEN cases.due_at IS NULL THEN 1 ELSE 0 END, cases.due_at, cases.received_at, cases.id").
		Limit(f.Limit).Offset(f.Offset).Scan(&out).Error
	return out, total, translate(err)
}

// CaseCount is what CountCases counts for one county and officer (0: the
// county's queue, undispatched cases).
type CaseCount struct {
	CountyID     int64
	OfficerID    int64
	Received     int // received in [from, to)
	Open         int // open now
	Overdue      int // open now, past the deadline
	Closed       int // closed in [from, to)
	ClosedOnTime int // of those, closed by the deadline
}

// CountCases counts the cases of counties (nil: every county) per county and
// officer: received and closed within [from, to), open and overdue at now.
func (db *DB) CountCases(ctx context.Context, countyIDs []int64, from, to, now time.Time) ([]CaseCount, error) {
	from, to, now = from.UTC(), to.UTC(), now.UTC()
	q := db.conn(ctx).Table("cases").Select(`county_id, COALESCE(officer_id, 0) AS officer_id,
		SUM(CASE WHEN received_at >= ? AND received_at < ? THEN 1 ELSE 0 END) AS received,
		SUM(CASE WHEN status NOT IN (?, ?) THEN 1 ELSE 0 END) AS open,
		SUM(CASE WHEN status NOT IN (?, ?) AND due_at < ? THEN 1 ELSE 0 END) AS overdue,
		SUM(CASE WHEN status = ? AND closed_at >= ? AND closed_at < ? THEN 1 ELSE 0 END) AS closed,
		SUM(CASE WHEN status = ? AND closed_at >= ? AND closed_at < ? AND on_time THEN 1 ELSE 0 END) AS closed_on_time`,
		from, to, CaseClosed, CaseDismissed, CaseClosed, CaseDismissed, now, CaseClosed, from, to, CaseClosed, from, to)
	if countyIDs != nil {
		q = q.Where("county_id IN ?", countyIDs)
	}
	var out []CaseCount
	err := q.Group("county_id, COALESCE(officer_id, 0)").Order("county_id, officer_id").Scan(&out).Error
	return out, translate(err)
}
