package models

import (
	"context"
	"time"
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
