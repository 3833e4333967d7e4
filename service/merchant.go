package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
)

// MerchantInput creates or changes a merchant; nil fields are left alone on update.
type MerchantInput struct {
	RoadID    *int64
	Name      *string
	USCC      *string
	Category  *string
	OwnerName *string
	Phone     *string
	Address   *string
	Lat       *float64
	Lng       *float64
	Status    *string
}

// checkMerchantFields validates the fields present in in, into m and cols.
func checkMerchantFields(f fieldErrors, in MerchantInput, m *models.Merchant, cols map[string]any, creating bool) {
	if in.Name != nil || creating {
		m.Name = f.text("name", deref(in.Name), true, 128)
		cols["name"] = m.Name
	}
	if in.USCC != nil {
		u := strings.ToUpper(strings.TrimSpace(*in.USCC))
		switch {
		case u == "":
			m.USCC = nil
		case !ValidUSCC(u):
			f.add("uscc", "统一社会信用代码无效（18 位，校验位不符）")
		default:
			m.USCC = &u
		}
		cols["uscc"] = m.USCC
	}
	if in.Category != nil {
		m.Category = f.text("category", *in.Category, false, 64)
		cols["category"] = m.Category
	}
	if in.OwnerName != nil {
		m.OwnerName = f.text("owner_name", *in.OwnerName, false, 64)
		cols["owner_name"] = m.OwnerName
	}
	if in.Phone != nil {
		p := strings.TrimSpace(*in.Phone)
		if p != "" && !ValidPhone(p) {
			f.add("phone", "电话号码无效（手机 11 位或带区号的固话）")
		}
		m.Phone = p
		cols["phone"] = p
	}
	if in.Address != nil {
		m.Address = f.text("address", *in.Address, false, 255)
		cols["address"] = m.Address
	}
	if in.Lat != nil {
		// Negated so that NaN fails too: "NaN" in an import cell or a form
		// parses as a float.
		if !(*in.Lat >= -90 && *in.Lat <= 90) {
			f.add("lat", "纬度应在 -90 到 90 之间")
		}
		m.Lat = in.Lat
		cols["lat"] = *in.Lat
	}
	if in.Lng != nil {
		if !(*in.Lng >= -180 && *in.Lng <= 180) {
			f.add("lng", "经度应在 -180 到 180 之间")
		}
		m.Lng = in.Lng
		cols["lng"] = *in.Lng
	}
	if in.Status != nil {
		if *in.Status != "active" && *in.Status != "closed" {
			f.add("status", "应为 active 或 closed")
		}
		m.Status = *in.Status
		cols["status"] = m.Status
	}
}

// CreateMerchant registers a shop on a road and gives it a random public code.
func (s *Service) CreateMerchant(ctx context.Context, a Actor, in MerchantInput) (models.Merchant, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.Merchant{}, errForbidden
	}
	f := fieldErrors{}
	m := models.Merchant{Status: "active", QRGeneration: 1}
	if in.RoadID == nil || *in.RoadID <= 0 {
		f.add("road_id", "必填")
	}
	checkMerchantFields(f, in, &m, map[string]any{}, true)
	if err := f.err(); err != nil {
		return models.Merchant{}, err
	}
	road, err := s.db.RoadByID(ctx, *in.RoadID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && !a.InCounty(road.CountyID)) {
		return models.Merchant{}, Invalid(map[string]string{"road_id": "道路不存在"})
	}
	if err != nil {
		return models.Merchant{}, err
	}
	m.RoadID, m.CountyID = road.ID, road.CountyID
	// Registration time decides whether the merchant has a previous cycle, so it
	// comes from the service clock, not the database's.
	m.CreatedAt = s.now().Truncate(time.Millisecond)
	m.UpdatedAt = m.CreatedAt
	for attempt := 0; ; attempt++ {
		if m.Code, err = qrcodes.NewCode(); err != nil {
			return models.Merchant{}, err
		}
		err = s.db.InTx(ctx, func(ctx context.Context) error {
			if err := s.db.CreateMerchant(ctx, &m); err != nil {
				return err
			}
			return s.audit(ctx, a, auditRecord{kind: AuditMerchantCreate, objectType: AuditObjectMerchant, objectID: m.ID,
				countyID: &m.CountyID, summary: merchantLabel(m), after: nonEmpty(merchantFields(m, road.Name))})
		})
		if err != nil {
			m.ID = 0
		}
		if models.IsDuplicateOf(err, "uq_merchants_code") && attempt < 5 {
			continue // a 40-bit random code collided; draw again
		}
		if err == nil && s.scores != nil {
			s.scores.ScoreChanged(ctx, m, s.policy.CycleOf(s.now()).String(), s.policy.BaseScore, -1)
		}
		return m, storeErr(err, "统一社会信用代码")
	}
}

// Merchant returns a merchant visible to the actor: admins and officers of its
// county, and the merchant's own account.
func (s *Service) Merchant(ctx context.Context, a Actor, id int64) (models.Merchant, error) {
	m, err := s.db.MerchantByID(ctx, id)
	if err != nil {
		return models.Merchant{}, storeErr(err, "商户")
	}
	if !s.canSeeMerchant(a, m) {
		return models.Merchant{}, errNotFound
	}
	return m, nil
}

func (s *Service) canSeeMerchant(a Actor, m models.Merchant) bool {
	switch a.Role {
	case RoleCityAdmin:
		return true
	case RoleCountyAdmin, RoleOfficer:
		return a.CountyID == m.CountyID
	case RoleMerchant:
		return a.MerchantID == m.ID
	}
	return false
}

// MerchantFilter narrows Merchants.
type MerchantFilter struct {
	CountyID int64
	RoadID   int64
	Status   string
	Query    string
	// RatedStar keeps the merchants displayed with this star now (nil: any).
	RatedStar *int
	// Watch keeps the merchants under 重点监管 (live score below the policy's line).
	Watch bool
	Sort  string // MerchantSort*; "" lists by id
	Desc  bool   // Sort descending
	Paging
}

// Orders of Merchants: by name, code, road name, or live score (ties by code).
const (
	MerchantSortName  = models.MerchantSortName
	MerchantSortCode  = models.MerchantSortCode
	MerchantSortRoad  = models.MerchantSortRoad
	MerchantSortScore = models.MerchantSortScore
)

// standingFilter turns the star and 重点监管 filters into score bounds of the
// current cycle: the displayed star is the star of the lower of this cycle's
// live score and (for merchants registered before it) last cycle's final
// score, at most the cap's star while a serious item's cap lasts.
func (s *Service) standingFilter(f MerchantFilter) *models.StandingFilter {
	if f.RatedStar == nil && !f.Watch && f.Sort != MerchantSortScore {
		return nil
	}
	pol := s.policy
	c := pol.CycleOf(s.now())
	st := &models.StandingFilter{Cycle: c.String(), Previous: c.Prev().String(), Since: pol.CycleStart(c),
		BaseScore: pol.BaseScore}
	if f.Watch {
		st.LiveBelow = pol.WatchBelow
	}
	if k := f.RatedStar; k != nil {
		const lowest, highest = -1 << 30, 1 << 30
		n := len(pol.StarThresholds)
		band := models.ScoreBand{Lo: lowest, Hi: highest}
		if *k > 0 {
			band.Lo = pol.StarThresholds[n-*k]
		}
		if *k < n {
			band.Hi = pol.StarThresholds[n-*k-1]
		}
		capped := band
		switch {
		case *k == pol.SeriousCapStar:
			capped.Hi = highest // any higher star is held down to the cap's
		case *k > pol.SeriousCapStar:
			capped = models.ScoreBand{} // nobody capped shows more than the cap
		}
		st.Rated, st.Capped = &band, &capped
		st.RepairedBefore = pol.CycleStart(c.Next())                // see repairedThrough
		st.CapCycles = make([]string, max(1, pol.SeriousCapCycles)) // the serious item's own cycle and the next ones
		for i := range st.CapCycles {
			st.CapCycles[i] = c.Add(-i).String()
		}
	}
	return st
}

// Merchants lists merchants of the actor's counties (admins and officers).
func (s *Service) Merchants(ctx context.Context, a Actor, f MerchantFilter) ([]models.Merchant, int64, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return nil, 0, errForbidden
	}
	p, err := f.Paging.check()
	if err != nil {
		return nil, 0, err
	}
	fe := fieldErrors{}
	q := fe.text("q", f.Query, false, 64)
	if f.Status != "" && f.Status != "active" && f.Status != "closed" {
		fe.add("status", "应为 active 或 closed")
	}
	if f.RatedStar != nil && (*f.RatedStar < 0 || *f.RatedStar > len(s.policy.StarThresholds)) {
		fe.add("star", "应在 0 到 "+itoa(len(s.policy.StarThresholds))+" 之间")
	}
	switch f.Sort {
	case "", MerchantSortName, MerchantSortCode, MerchantSortRoad, MerchantSortScore:
	default:
		fe.add("sort", "应为 name、code、road 或 score")
	}
	if err := fe.err(); err != nil {
		return nil, 0, err
	}
	scope := a.countyScope()
	if f.CountyID != 0 {
		if !a.InCounty(f.CountyID) {
			return nil, 0, errForbidden
		}
		scope = []int64{f.CountyID}
	}
	ms, total, err := s.db.ListMerchants(ctx, models.MerchantFilter{CountyIDs: scope, RoadID: f.RoadID, Status: f.Status,
		Query: q, Limit: p.Limit, Offset: p.Offset, Standing: s.standingFilter(f), Sort: f.Sort, Desc: f.Desc})
	if ms == nil {
		ms = []models.Merchant{}
	}
	return ms, total, err
}

// UpdateMerchant changes the named fields of a merchant (county admin). Moving
// to another road stays within the county.
func (s *Service) UpdateMerchant(ctx context.Context, a Actor, id int64, in MerchantInput) (models.Merchant, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.Merchant{}, errForbidden
	}
	m, err := s.Merchant(ctx, a, id)
	if err != nil {
		return models.Merchant{}, err
	}
	f := fieldErrors{}
	cols := map[string]any{}
	was := m.Status
	checkMerchantFields(f, in, &m, cols, false)
	switch {
	case was != "closed" && m.Status == "closed":
		cols["closed_at"] = s.now().Truncate(time.Millisecond) // it still ranks in the cycles it took part in
	case was == "closed" && m.Status != "closed":
		cols["closed_at"] = nil
	}
	if in.RoadID != nil && *in.RoadID != m.RoadID {
		road, err := s.db.RoadByID(ctx, *in.RoadID)
		if err != nil || road.CountyID != m.CountyID {
			f.add("road_id", "道路不存在或不属于本区县")
		}
		cols["road_id"] = *in.RoadID
	}
	if err := f.err(); err != nil {
		return models.Merchant{}, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.LockForChange(ctx, "merchants", id); err != nil {
			return err
		}
		before, err := s.db.MerchantByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.db.UpdateMerchant(ctx, id, cols); err != nil {
			return err
		}
		if m, err = s.db.MerchantByID(ctx, id); err != nil {
			return err
		}
		return s.auditMerchantEdit(ctx, a, before, m)
	})
	if err != nil {
		return models.Merchant{}, storeErr(err, "统一社会信用代码")
	}
	if s.scores != nil {
		// Road moves, closing and renames change the rankings the merchant appears in.
		_, moved := cols["road_id"]
		_, renamed := cols["name"]
		if moved || renamed || cols["status"] != nil {
			c := s.policy.CycleOf(s.now())
			st, _ := s.standings(ctx, []models.Merchant{m}, c)
			s.scores.ScoreChanged(ctx, m, c.String(), st[m.ID].Score, -1)
		}
	}
	return m, storeErr(err, "商户")
}

// MerchantAppeals lists a merchant's appeals, newest first (whoever may see
// the merchant's history: admins and officers of its county, the merchant).
func (s *Service) MerchantAppeals(ctx context.Context, a Actor, merchantID int64, p Paging) ([]models.Appeal, int64, error) {
	if _, err := s.historyMerchant(ctx, a, merchantID); err != nil {
		return nil, 0, err
	}
	p, err := p.check()
	if err != nil {
		return nil, 0, err
	}
	out, total, err := s.db.ListAppeals(ctx, models.AppealFilter{MerchantID: merchantID, Limit: p.Limit, Offset: p.Offset})
	if out == nil {
		out = []models.Appeal{}
	}
	return out, total, err
}
