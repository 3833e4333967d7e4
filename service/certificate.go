package service

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service/policy"
)

// Credit certificates (信用证明): banks and landlords tie loans and rents to
// stars, so a merchant can print its star and score as of today with a QR
// code to a public verification page (/v/{token}). The token is signed like
// a plaque's (qrcodes.Signer), over every fact the certificate states, so a
// made-up or edited certificate does not verify; the county admin can
// revoke one.

// CertificateView is a stored certificate with its token and the URL its QR
// code encodes.
type CertificateView struct {
	models.CreditCertificate
	Token string
	URL   string
}

// Revoked tells a revoked certificate.
func (v CertificateView) Revoked() bool { return v.RevokedAt != nil }

// maxListedCertificates bounds a shop's list of certificates.
const maxListedCertificates = 50

// errCertificateInvalid answers a token that was not issued here or whose
// certificate was altered: one answer for both, so a forger learns nothing.
var errCertificateInvalid = &Error{Code: CodeNotFound,
	Message: "无法核实这份信用证明：二维码不是本系统签发的，或证明内容已被改动。请勿采信。"}

// certificateFacts are what a certificate states, in the order its MAC
// covers them (the free-text name last).
func certificateFacts(c models.CreditCertificate) []string {
	return []string{c.MerchantCode, strconv.Itoa(c.Star), strconv.Itoa(c.Score), c.Cycle,
		strconv.FormatInt(c.IssuedAt.UnixMilli(), 10), c.MerchantName}
}

func (s *Service) certificateView(c models.CreditCertificate) CertificateView {
	tok := s.plaques.CertificateToken(c.Serial, certificateFacts(c)...)
	return CertificateView{CreditCertificate: c, Token: tok, URL: qrcodes.CertificateURL(s.publicURL, tok)}
}

// IssueCertificate issues a certificate of the merchant's rated star and live
// score now. Only the merchant itself may: another role is CodeForbidden,
// another shop CodeNotFound, a closed shop CodeConflict.
func (s *Service) IssueCertificate(ctx context.Context, a Actor, merchantID int64) (CertificateView, error) {
	if a.Role != RoleMerchant {
		return CertificateView{}, errForbidden
	}
	m, err := s.Merchant(ctx, a, merchantID)
	if err != nil {
		return CertificateView{}, err
	}
	if m.Status != "active" {
		return CertificateView{}, Errorf(CodeConflict, "本店已注销，不能开具信用证明")
	}
	st, err := s.CurrentScores(ctx, []models.Merchant{m})
	if err != nil {
		return CertificateView{}, err
	}
	r := st[m.ID]
	c := models.CreditCertificate{MerchantID: m.ID, CountyID: m.CountyID, MerchantCode: m.Code, MerchantName: m.Name,
		Star: r.RatedStar, Score: r.Score, Cycle: r.Cycle, IssuedBy: a.UserID, IssuedAt: s.now().Truncate(time.Millisecond)}
	for range 3 { // 40 random bits: a taken serial is rare, twice in a row rarer still
		if c.Serial, err = qrcodes.NewSerial(); err != nil {
			return CertificateView{}, err
		}
		c.ID = 0
		if err = s.db.CreateCertificate(ctx, &c); !errors.Is(err, models.ErrDuplicate) {
			break
		}
	}
	if err != nil {
		return CertificateView{}, storeErr(err, "信用证明")
	}
	return s.certificateView(c), nil
}

// Certificates lists a merchant's certificates, newest first: for the
// merchant itself, the county's users and the city admin.
func (s *Service) Certificates(ctx context.Context, a Actor, merchantID int64) ([]CertificateView, error) {
	if _, err := s.historyMerchant(ctx, a, merchantID); err != nil {
		return nil, err
	}
	cs, err := s.db.CertificatesOf(ctx, merchantID, maxListedCertificates)
	if err != nil {
		return nil, err
	}
	out := make([]CertificateView, len(cs))
	for i, c := range cs {
		out[i] = s.certificateView(c)
	}
	return out, nil
}

// Certificate returns one certificate to those who may list its shop's.
func (s *Service) Certificate(ctx context.Context, a Actor, id int64) (CertificateView, error) {
	c, err := s.db.CertificateByID(ctx, id)
	if err != nil {
		return CertificateView{}, storeErr(err, "信用证明")
	}
	if _, err := s.historyMerchant(ctx, a, c.MerchantID); err != nil {
		return CertificateView{}, err
	}
	return s.certificateView(c), nil
}

// CertificatePNG renders a certificate's QR code.
func (s *Service) CertificatePNG(v CertificateView, size int) ([]byte, error) {
	png, err := qrcodes.PNG(v.URL, size)
	if errors.Is(err, qrcodes.ErrInvalidSize) {
		return nil, errPlaqueSize
	}
	return png, err
}

// Verification is what the public verification page says of an authentic
// certificate: what it stated, and the shop's standing now.
type Verification struct {
	Certificate models.CreditCertificate
	Active      bool          // the shop still trades
	Now         policy.Result // its standing now (when active)
}

// VerifyCertificate checks a certificate's token. Errors: CodeNotFound for
// a token not issued here or a certificate altered since (one message for
// both), CodeRevoked for a revoked one (its message says when).
func (s *Service) VerifyCertificate(ctx context.Context, token string) (Verification, error) {
	serial, err := qrcodes.CertificateSerial(token)
	if err != nil {
		return Verification{}, errCertificateInvalid
	}
	c, err := s.db.CertificateBySerial(ctx, serial)
	if errors.Is(err, models.ErrNotFound) {
		return Verification{}, errCertificateInvalid
	}
	if err != nil {
		return Verification{}, err
	}
	if !s.plaques.CheckCertificate(token, c.Serial, certificateFacts(c)...) {
		return Verification{}, errCertificateInvalid
	}
	if c.RevokedAt != nil {
		return Verification{}, Errorf(CodeRevoked, "这份信用证明已于%s被发证部门撤销，不再有效。请勿采信。",
			c.RevokedAt.In(s.policy.Location()).Format("2006年1月2日"))
	}
	m, err := s.db.MerchantByID(ctx, c.MerchantID)
	if err != nil {
		return Verification{}, err
	}
	v := Verification{Certificate: c, Active: m.Status == "active"}
	if v.Active {
		st, err := s.CurrentScores(ctx, []models.Merchant{m})
		if err != nil {
			return Verification{}, err
		}
		v.Now = st[m.ID]
	}
	return v, nil
}

// RevokeCertificate revokes a certificate (the county admin of its shop's
// county, or the city admin), with a reason kept in the audit log. Errors:
// CodeForbidden, CodeNotFound (another county's), CodeInvalid (no reason),
// CodeConflict (revoked already).
func (s *Service) RevokeCertificate(ctx context.Context, a Actor, id int64, reason string) (CertificateView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return CertificateView{}, errForbidden
	}
	f := fieldErrors{}
	reason = f.text("reason", reason, true, 500)
	if err := f.err(); err != nil {
		return CertificateView{}, err
	}
	c, err := s.db.CertificateByID(ctx, id)
	if err != nil {
		return CertificateView{}, storeErr(err, "信用证明")
	}
	m, err := s.Merchant(ctx, a, c.MerchantID)
	if err != nil {
		return CertificateView{}, err
	}
	errRevoked := Errorf(CodeConflict, "该信用证明已撤销")
	if c.RevokedAt != nil {
		return CertificateView{}, errRevoked
	}
	now := s.now().Truncate(time.Millisecond)
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.RevokeCertificate(ctx, c.ID, a.UserID, now); err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditCertificateRevoke, objectType: AuditObjectMerchant, objectID: m.ID,
			countyID: &m.CountyID, summary: merchantLabel(m) + " 信用证明 " + c.Serial,
			before: map[string]any{"certificate": c.Serial, "revoked": false},
			after:  map[string]any{"certificate": c.Serial, "revoked": true, "reason": reason}})
	})
	if errors.Is(err, models.ErrNotFound) { // revoked meanwhile by another admin
		return CertificateView{}, errRevoked
	}
	if err != nil {
		return CertificateView{}, err
	}
	c.RevokedBy, c.RevokedAt = &a.UserID, &now
	return s.certificateView(c), nil
}
