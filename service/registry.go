package service

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
)

func itoa(n int) string { return strconv.Itoa(n) }

// CountyInput creates or changes a county. Nil fields are left alone on update.
type CountyInput struct {
	Code           *string
	Name           *string
	DemoRoadTarget *int
}

// CreateCounty adds a county (city admin only). A taken code is CodeDuplicate.
func (s *Service) CreateCounty(ctx context.Context, a Actor, in CountyInput) (models.County, error) {
	if !a.IsCity() {
		return models.County{}, errForbidden
	}
	f := fieldErrors{}
	c := models.County{DemoRoadTarget: s.policy.Demonstration.Target}
	if in.Code == nil || !countyRe.MatchString(*in.Code) {
		f.add("code", "应为 6 位行政区划代码，如 370303")
	} else {
		c.Code = *in.Code
	}
	c.Name = f.text("name", deref(in.Name), true, 64)
	if in.DemoRoadTarget != nil {
		c.DemoRoadTarget = *in.DemoRoadTarget
		if c.DemoRoadTarget < 0 || c.DemoRoadTarget > 1000 {
			f.add("demo_road_target", "应在 0 到 1000 之间")
		}
	}
	if err := f.err(); err != nil {
		return models.County{}, err
	}
	return c, storeErr(s.db.CreateCounty(ctx, &c), "区县代码")
}

// UpdateCounty changes a county's name or demonstration-road target (city admin).
func (s *Service) UpdateCounty(ctx context.Context, a Actor, id int64, in CountyInput) (models.County, error) {
	if !a.IsCity() {
		return models.County{}, errForbidden
	}
	f := fieldErrors{}
	cols := map[string]any{}
	if in.Code != nil {
		f.add("code", "区县代码不可修改")
	}
	if in.Name != nil {
		cols["name"] = f.text("name", *in.Name, true, 64)
	}
	if in.DemoRoadTarget != nil {
		if *in.DemoRoadTarget < 0 || *in.DemoRoadTarget > 1000 {
			f.add("demo_road_target", "应在 0 到 1000 之间")
		}
		cols["demo_road_target"] = *in.DemoRoadTarget
	}
	if err := f.err(); err != nil {
		return models.County{}, err
	}
	if err := s.db.UpdateCounty(ctx, id, cols); err != nil {
		return models.County{}, storeErr(err, "区县")
	}
	return s.County(ctx, a, id)
}

// County returns a county visible to the actor.
func (s *Service) County(ctx context.Context, a Actor, id int64) (models.County, error) {
	if !a.InCounty(id) {
		return models.County{}, errNotFound
	}
	c, err := s.db.CountyByID(ctx, id)
	return c, storeErr(err, "区县")
}

// Counties lists the counties the actor may see.
func (s *Service) Counties(ctx context.Context, a Actor) ([]models.County, error) {
	return s.db.ListCounties(ctx, a.countyScope())
}

// RoadInput creates or changes a road; nil fields are left alone on update.
type RoadInput struct {
	CountyID   *int64
	Name       *string
	Town       *string
	LengthM    *int
	OfficerIDs *[]int64
}

// RoadView is a road with its responsible officers.
type RoadView struct {
	models.Road
	OfficerIDs []int64
}

func (s *Service) canManageCounty(a Actor, countyID int64) bool {
	return a.IsCity() || (a.Role == RoleCountyAdmin && a.CountyID == countyID)
}

// CreateRoad adds a road to a county (its county admin, or the city admin).
func (s *Service) CreateRoad(ctx context.Context, a Actor, in RoadInput) (RoadView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return RoadView{}, errForbidden
	}
	f := fieldErrors{}
	r := models.Road{DemoStatus: "none"}
	if in.CountyID == nil || *in.CountyID <= 0 {
		f.add("county_id", "必填")
	} else {
		r.CountyID = *in.CountyID
	}
	r.Name = f.text("name", deref(in.Name), true, 64)
	r.Town = f.text("town", deref(in.Town), false, 64)
	if in.LengthM != nil {
		if *in.LengthM < 0 || *in.LengthM > 100000 {
			f.add("length_m", "应在 0 到 100000 米之间")
		}
		r.LengthM = in.LengthM
	}
	if err := f.err(); err != nil {
		return RoadView{}, err
	}
	if !s.canManageCounty(a, r.CountyID) {
		return RoadView{}, errForbidden
	}
	if _, err := s.db.CountyByID(ctx, r.CountyID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return RoadView{}, Invalid(map[string]string{"county_id": "区县不存在"})
		}
		return RoadView{}, err
	}
	var officers []int64
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.CreateRoad(ctx, &r); err != nil {
			return storeErr(err, "同名道路")
		}
		if in.OfficerIDs == nil {
			return nil
		}
		var err error
		officers, err = s.setRoadOfficers(ctx, r, *in.OfficerIDs)
		return err
	})
	return RoadView{Road: r, OfficerIDs: officers}, err
}

// setRoadOfficers checks that every id is an officer of the road's county.
func (s *Service) setRoadOfficers(ctx context.Context, r models.Road, ids []int64) ([]int64, error) {
	ids = uniqueIDs(ids)
	if len(ids) > 50 {
		return nil, Invalid(map[string]string{"officer_ids": "最多 50 名责任人"})
	}
	if len(ids) > 0 {
		users, err := s.db.UsersByIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		// An unknown id gets the same answer as another county's user, so a
		// county admin cannot probe which accounts exist elsewhere.
		ok := len(users) == len(ids)
		for _, u := range users {
			if u.Role != RoleOfficer || u.CountyID == nil || *u.CountyID != r.CountyID {
				ok = false
			}
		}
		if !ok {
			return nil, Invalid(map[string]string{"officer_ids": "责任人须为本区县巡查员"})
		}
	}
	return ids, s.db.SetRoadOfficers(ctx, r.ID, ids)
}

// Road returns a road visible to the actor (admins and officers of its county).
func (s *Service) Road(ctx context.Context, a Actor, id int64) (RoadView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return RoadView{}, errForbidden
	}
	r, err := s.db.RoadByID(ctx, id)
	if err != nil {
		return RoadView{}, storeErr(err, "道路")
	}
	if !a.InCounty(r.CountyID) {
		return RoadView{}, errNotFound
	}
	off, err := s.db.RoadOfficers(ctx, []int64{id})
	return RoadView{Road: r, OfficerIDs: off[id]}, err
}

// Roads lists roads of the actor's counties, optionally of one county.
func (s *Service) Roads(ctx context.Context, a Actor, countyID int64, p Paging) ([]RoadView, int64, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return nil, 0, errForbidden
	}
	p, err := p.check()
	if err != nil {
		return nil, 0, err
	}
	scope := a.countyScope()
	if countyID != 0 {
		if !a.InCounty(countyID) {
			return nil, 0, errForbidden
		}
		scope = []int64{countyID}
	}
	roads, total, err := s.db.ListRoads(ctx, models.RoadFilter{CountyIDs: scope, Limit: p.Limit, Offset: p.Offset})
	if err != nil || len(roads) == 0 {
		return []RoadView{}, total, err
	}
	ids := make([]int64, len(roads))
	for i, r := range roads {
		ids[i] = r.ID
	}
	off, err := s.db.RoadOfficers(ctx, ids)
	out := make([]RoadView, len(roads))
	for i, r := range roads {
		out[i] = RoadView{Road: r, OfficerIDs: off[r.ID]}
	}
	return out, total, err
}

// UpdateRoad changes the named fields of a road (county admin of its county).
func (s *Service) UpdateRoad(ctx context.Context, a Actor, id int64, in RoadInput) (RoadView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return RoadView{}, errForbidden
	}
	r, err := s.db.RoadByID(ctx, id)
	if err != nil {
		return RoadView{}, storeErr(err, "道路")
	}
	if !a.InCounty(r.CountyID) {
		return RoadView{}, errNotFound
	}
	f := fieldErrors{}
	cols := map[string]any{}
	if in.CountyID != nil && *in.CountyID != r.CountyID {
		f.add("county_id", "道路所属区县不可修改")
	}
	if in.Name != nil {
		cols["name"] = f.text("name", *in.Name, true, 64)
	}
	if in.Town != nil {
		cols["town"] = f.text("town", *in.Town, false, 64)
	}
	if in.LengthM != nil {
		if *in.LengthM < 0 || *in.LengthM > 100000 {
			f.add("length_m", "应在 0 到 100000 米之间")
		}
		cols["length_m"] = *in.LengthM
	}
	if err := f.err(); err != nil {
		return RoadView{}, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.UpdateRoad(ctx, id, cols); err != nil {
			return storeErr(err, "同名道路")
		}
		if in.OfficerIDs != nil {
			_, err := s.setRoadOfficers(ctx, r, *in.OfficerIDs)
			return err
		}
		return nil
	})
	if err != nil {
		return RoadView{}, err
	}
	return s.Road(ctx, a, id)
}

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
		if *in.Lat < -90 || *in.Lat > 90 {
			f.add("lat", "纬度应在 -90 到 90 之间")
		}
		m.Lat = in.Lat
		cols["lat"] = *in.Lat
	}
	if in.Lng != nil {
		if *in.Lng < -180 || *in.Lng > 180 {
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
		err = s.db.CreateMerchant(ctx, &m)
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
	Paging
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
		Query: q, Limit: p.Limit, Offset: p.Offset})
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
	if err := s.db.UpdateMerchant(ctx, id, cols); err != nil {
		return models.Merchant{}, storeErr(err, "统一社会信用代码")
	}
	m, err = s.db.MerchantByID(ctx, id)
	if err == nil && s.scores != nil {
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

// UserInput creates an account.
type UserInput struct {
	Username    string
	Password    string
	Role        string
	CountyID    *int64
	MerchantID  *int64
	DisplayName string
}

// CreateUser adds an account. The city admin creates anyone; a county admin
// creates officers and merchant accounts of its own county.
func (s *Service) CreateUser(ctx context.Context, a Actor, in UserInput) (models.User, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.User{}, errForbidden
	}
	f := fieldErrors{}
	if !usernameRe.MatchString(in.Username) {
		f.add("username", "3–64 位字母、数字或 _ . -")
	}
	if n := len(in.Password); n < 8 || n > 72 {
		f.add("password", "密码长度应为 8 到 72 个字符")
	}
	name := f.text("display_name", in.DisplayName, false, 64)
	u := models.User{Username: in.Username, Role: in.Role, DisplayName: name}
	switch in.Role {
	case RoleCityAdmin:
		if in.CountyID != nil || in.MerchantID != nil {
			f.add("county_id", "市级管理员不属于区县")
		}
	case RoleCountyAdmin, RoleOfficer:
		if in.CountyID == nil {
			f.add("county_id", "必填")
		}
		if in.MerchantID != nil {
			f.add("merchant_id", "仅商户账号可关联商户")
		}
		u.CountyID = in.CountyID
	case RoleMerchant:
		if in.MerchantID == nil {
			f.add("merchant_id", "必填")
		}
		u.MerchantID = in.MerchantID
	default:
		f.add("role", "应为 city_admin、county_admin、officer 或 merchant")
	}
	if err := f.err(); err != nil {
		return models.User{}, err
	}
	if in.Role == RoleMerchant {
		m, err := s.db.MerchantByID(ctx, *in.MerchantID)
		if err != nil || !a.InCounty(m.CountyID) {
			if err != nil && !errors.Is(err, models.ErrNotFound) {
				return models.User{}, err
			}
			return models.User{}, Invalid(map[string]string{"merchant_id": "商户不存在"})
		}
		if in.CountyID != nil && *in.CountyID != m.CountyID {
			return models.User{}, Invalid(map[string]string{"county_id": "与商户所属区县不一致"})
		}
		u.CountyID = &m.CountyID
	}
	if a.Role == RoleCountyAdmin && (in.Role == RoleCityAdmin || in.Role == RoleCountyAdmin || *u.CountyID != a.CountyID) {
		return models.User{}, errForbidden
	}
	if u.CountyID != nil {
		if _, err := s.db.CountyByID(ctx, *u.CountyID); err != nil {
			if errors.Is(err, models.ErrNotFound) {
				return models.User{}, Invalid(map[string]string{"county_id": "区县不存在"})
			}
			return models.User{}, err
		}
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return models.User{}, err
	}
	u.PasswordHash = hash
	return u, storeErr(s.db.CreateUser(ctx, &u), "用户名")
}

// Me returns the actor's own account.
func (s *Service) Me(ctx context.Context, a Actor) (models.User, error) {
	u, err := s.db.UserByID(ctx, a.UserID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && u.Disabled) {
		return models.User{}, Errorf(CodeUnauthorized, "账号不存在或已停用")
	}
	return u, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func uniqueIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
