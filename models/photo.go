package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// Photo origins: who took a photo.
const (
	PhotoFromAccount = "account" // uploaded by a signed-in account (officer, county admin, merchant)
	PhotoFromCitizen = "citizen" // sent with a citizen's report through a plaque (no account)
)

// Photo is an evidence picture; the file is stored under its SHA-256.
type Photo struct {
	ID          int64
	SHA256      string `gorm:"column:sha256"`
	ContentType string
	SizeBytes   int64
	CountyID    int64
	MerchantID  *int64 // the shop it is evidence of (a merchant's upload: from the start; an officer's: from its first use); nil: none yet
	UploadedBy  *int64 // nil: a citizen's
	Origin      string `gorm:"default:account"` // PhotoFromAccount or PhotoFromCitizen
	CreatedAt   time.Time
}

// CreatePhoto stores p.
func (db *DB) CreatePhoto(ctx context.Context, p *Photo) error {
	return translate(db.conn(ctx).Create(p).Error)
}

// PhotoByID returns one photo or ErrNotFound.
func (db *DB) PhotoByID(ctx context.Context, id int64) (Photo, error) {
	var p Photo
	return p, translate(db.conn(ctx).Take(&p, id).Error)
}

// PhotosByIDs returns the photos that exist among ids.
func (db *DB) PhotosByIDs(ctx context.Context, ids []int64) ([]Photo, error) {
	var out []Photo
	return out, translate(db.conn(ctx).Where("id IN ?", ids).Find(&out).Error)
}

// CitizenPhotos returns which of ids are citizens' photos.
func (db *DB) CitizenPhotos(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var found []int64
	err := db.conn(ctx).Model(&Photo{}).Where("id IN ? AND origin = ?", ids, PhotoFromCitizen).Pluck("id", &found).Error
	for _, id := range found {
		out[id] = true
	}
	return out, translate(err)
}

// EvidencePhoto is what decides whether a photo may document a shop: its
// county, and the shop it is already evidence of (nil: none yet).
type EvidencePhoto struct {
	CountyID   int64
	MerchantID *int64
}

// LockEvidencePhotos returns the photos among ids that exist and that an
// account uploaded, locked until the transaction ends (FOR UPDATE on MySQL;
// SQLite's IMMEDIATE transaction holds the write lock already), so that two
// transactions binding one photo to two shops (BindPhotos) run one after the
// other and the second sees the first's binding. A citizen's photo is
// evidence only of the inspection its case was handled with
// (SetInspectionPhotos), never one an officer names, so it counts as absent.
// Transactions take the photos' locks before any other (the recorder before
// its merchants, a notice before its insert), so they never deadlock on each
// other over them.
func (db *DB) LockEvidencePhotos(ctx context.Context, ids []int64) (map[int64]EvidencePhoto, error) {
	out := map[int64]EvidencePhoto{}
	if len(ids) == 0 {
		return out, nil
	}
	q := db.conn(ctx).Select("id", "county_id", "merchant_id").Where("id IN ? AND origin <> ?", ids, PhotoFromCitizen).Order("id")
	if db.dialect == MySQL {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var rows []Photo
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	for _, p := range rows {
		out[p.ID] = EvidencePhoto{CountyID: p.CountyID, MerchantID: p.MerchantID}
	}
	return out, nil
}

// BindPhotos makes each photo of bind (photo id → merchant id) evidence of
// that shop, if it is of none yet, in one statement. The caller decided the
// bindings on rows it locked (LockEvidencePhotos).
func (db *DB) BindPhotos(ctx context.Context, bind map[int64]int64) error {
	if len(bind) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(bind))
	for id := range bind {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var when strings.Builder
	args := make([]any, 0, 2*len(ids)+1)
	for _, id := range ids {
		when.WriteString(" WHEN ? THEN ?")
		args = append(args, id, bind[id])
	}
	args = append(args, ids)
	err := db.conn(ctx).Exec(fmt.Sprintf("UPDATE photos SET merchant_id = CASE id%s END WHERE id IN ? AND merchant_id IS NULL", when.String()), args...).Error
	return translate(err)
}
