package service

import (
	"context"
	"errors"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service/policy"
)

// PlaqueMerchant returns a merchant whose plaque the actor may print: county
// admins and officers of its county, and the city admin.
func (s *Service) PlaqueMerchant(ctx context.Context, a Actor, id int64) (models.Merchant, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return models.Merchant{}, errForbidden
	}
	return s.Merchant(ctx, a, id)
}

// PlaquePNG renders the merchant's current plaque QR code.
func (s *Service) PlaquePNG(m models.Merchant, size int) ([]byte, error) {
	png, err := qrcodes.PNG(s.PlaqueURL(m), size)
	if errors.Is(err, qrcodes.ErrInvalidSize) {
		return nil, Invalid(map[string]string{"size": "应在 128 到 2048 像素之间"})
	}
	return png, err
}

// ReissuePlaque bumps the plaque generation (county admin): the old plaque
// stops resolving and the new token is returned.
func (s *Service) ReissuePlaque(ctx context.Context, a Actor, id int64) (models.Merchant, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.Merchant{}, errForbidden
	}
	m, err := s.Merchant(ctx, a, id)
	if err != nil {
		return m, err
	}
	gen, err := s.db.BumpQRGeneration(ctx, id)
	if err != nil {
		return m, storeErr(err, "商户")
	}
	m.QRGeneration = gen
	return m, nil
}

// PublicProfile is what anyone scanning a plaque may see: nothing private.
type PublicProfile struct {
	Merchant models.Merchant
	Road     models.Road
	County   models.County
	Score    policy.Result
}

// ErrPlaqueReplaced marks a genuine plaque of an older generation.
var ErrPlaqueReplaced = errReplaced

// ProfileByToken resolves a scanned plaque. Forged tokens and closed shops are
// CodeNotFound; a replaced plaque is CodeNotFound wrapping ErrPlaqueReplaced.
func (s *Service) ProfileByToken(ctx context.Context, token string) (PublicProfile, error) {
	m, err := s.merchantByToken(ctx, token)
	if err != nil {
		return PublicProfile{}, err
	}
	if m.Status != "active" {
		return PublicProfile{}, errNotFound
	}
	road, err := s.db.RoadByID(ctx, m.RoadID)
	if err != nil {
		return PublicProfile{}, err
	}
	county, err := s.db.CountyByID(ctx, m.CountyID)
	if err != nil {
		return PublicProfile{}, err
	}
	st, err := s.CurrentScores(ctx, []models.Merchant{m})
	return PublicProfile{Merchant: m, Road: road, County: county, Score: st[m.ID]}, err
}
