package models

import (
	"context"
	"time"
)

// CreditCertificate is a credit certificate (信用证明) a merchant issued: what
// it said as of its issue, and its revocation. Its token's MAC covers every
// field it states, so an edited row does not verify.
type CreditCertificate struct {
	ID           int64
	Serial       string
	MerchantID   int64
	CountyID     int64
	MerchantCode string
	MerchantName string
	Star         int // the rated (displayed) star at issue
	Score        int // the live score of Cycle at issue
	Cycle        string
	IssuedBy     int64
	IssuedAt     time.Time
	RevokedBy    *int64
	RevokedAt    *time.Time
}

// CreateCertificate stores c; a serial already taken is ErrDuplicate.
func (db *DB) CreateCertificate(ctx context.Context, c *CreditCertificate) error {
	return translate(db.conn(ctx).Create(c).Error)
}

// CertificateByID returns one certificate or ErrNotFound.
func (db *DB) CertificateByID(ctx context.Context, id int64) (CreditCertificate, error) {
	var c CreditCertificate
	return c, translate(db.conn(ctx).Take(&c, id).Error)
}

// CertificateBySerial returns the certificate of a serial or ErrNotFound.
func (db *DB) CertificateBySerial(ctx context.Context, serial string) (CreditCertificate, error) {
	var c CreditCertificate
	return c, translate(db.conn(ctx).Where("serial = ?", serial).Take(&c).Error)
}

// CertificatesOf returns a merchant's newest limit certificates, newest first.
func (db *DB) CertificatesOf(ctx context.Context, merchantID int64, limit int) ([]CreditCertificate, error) {
	out := []CreditCertificate{}
	return out, translate(db.conn(ctx).Where("merchant_id = ?", merchantID).Order("id DESC").Limit(limit).Find(&out).Error)
}

// RevokeCertificate marks certificate id revoked by user at at; one revoked
// already (or meanwhile, by another admin) is ErrNotFound.
func (db *DB) RevokeCertificate(ctx context.Context, id, by int64, at time.Time) error {
	res := db.conn(ctx).Exec(`UPDATE credit_certificates SET revoked_by = ?, revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, by, at, id)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
