package service

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/menqian/menqian/models"
)

// activeTTL is how long an account's "enabled" answer is reused: the token
// of a disabled officer, or one issued before a password reset, stops working
// within it on every instance (at once on the instance that made the change).
const activeTTL = 10 * time.Second

// activeOutageTTL is how long past activeTTL the answer still holds while the
// database cannot be reached.
const activeOutageTTL = 15 * time.Minute

// activeCache remembers which accounts were recently found enabled, and
// under which token generation.
type activeCache struct {
	mu sync.Mutex
	m  map[int64]activeEntry
}

type activeEntry struct {
	until      time.Time
	generation int
}

func newActiveCache() *activeCache { return &activeCache{m: map[int64]activeEntry{}} }

// CheckActive refuses a token whose account was disabled or removed since it
// was issued (CodeUnauthorized).
func (s *Service) CheckActive(ctx context.Context, a Actor) error {
	now := time.Now()
	s.active.mu.Lock()
	e, ok := s.active.m[a.UserID]
	s.active.mu.Unlock()
	if ok && now.Before(e.until) {
		if e.generation != a.generation {
			return errPasswordReset()
		}
		return nil
	}
	u, err := s.db.UserByID(ctx, a.UserID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && (u.Disabled || u.Role != a.Role)) {
		return Errorf(CodeUnauthorized, "账号不存在或已停用")
	}
	if err != nil {
		// The database unreachable: an account this instance saw enabled
		// within activeOutageTTL stays so (no account can change meanwhile),
		// so rankings keep answering from what was last read (stale.go).
		if ok && models.IsUnavailable(err) && now.Before(e.until.Add(activeOutageTTL)) && e.generation == a.generation {
			return nil
		}
		return err
	}
	s.active.mu.Lock()
	if len(s.active.m) > 100_000 {
		clear(s.active.m)
	}
	s.active.m[a.UserID] = activeEntry{until: now.Add(activeTTL), generation: u.TokenGeneration}
	s.active.mu.Unlock()
	if u.TokenGeneration != a.generation {
		return errPasswordReset()
	}
	return nil
}

// errPasswordReset refuses a token issued before the account's password was
// reset or the account was disabled (re-enabling it does not revive old tokens).
func errPasswordReset() error {
	return Errorf(CodeUnauthorized, "密码已重置或账号曾被停用，请重新登录")
}

// canManageUser: the city admin manages everyone; a county admin the officers
// and merchant accounts of its county.
func canManageUser(a Actor, u models.User) bool {
	if a.IsCity() {
		return true
	}
	return a.Role == RoleCountyAdmin && u.CountyID != nil && *u.CountyID == a.CountyID &&
		(u.Role == RoleOfficer || u.Role == RoleMerchant || u.Role == RoleAuditor)
}

// UserQuery narrows Users.
type UserQuery struct {
	CountyID int64
	Role     string
	Paging
}

// Users lists the accounts the actor manages.
func (s *Service) Users(ctx context.Context, a Actor, q UserQuery) ([]models.User, int64, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return nil, 0, errForbidden
	}
	p, err := q.Paging.check()
	if err != nil {
		return nil, 0, err
	}
	switch q.Role {
	case "", RoleCityAdmin, RoleCountyAdmin, RoleOfficer, RoleMerchant, RoleAuditor:
	default:
		return nil, 0, Invalid(map[string]string{"role": "应为 city_admin、county_admin、officer、auditor 或 merchant"})
	}
	scope := a.countyScope()
	if q.CountyID != 0 {
		if !a.InCounty(q.CountyID) {
			return nil, 0, errForbidden
		}
		scope = []int64{q.CountyID}
	}
	us, total, err := s.db.ListUsers(ctx, models.UserFilter{CountyIDs: scope, Role: q.Role, Limit: p.Limit, Offset: p.Offset})
	if us == nil {
		us = []models.User{}
	}
	return us, total, err
}

// UserChange is a partial update of an account; nil fields are left alone.
type UserChange struct {
	Disabled    *bool
	Password    *string
	DisplayName *string
}

// UpdateUser disables or re-enables an account, resets its password or renames
// it. Nobody disables their own account (no lock-out).
func (s *Service) UpdateUser(ctx context.Context, a Actor, id int64, in UserChange) (models.User, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.User{}, errForbidden
	}
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return models.User{}, storeErr(err, "用户")
	}
	if !canManageUser(a, u) {
		return models.User{}, errNotFound
	}
	f := fieldErrors{}
	cols := map[string]any{}
	if in.Disabled != nil {
		if *in.Disabled && id == a.UserID {
			f.add("disabled", "不能停用自己的账号")
		}
		cols["disabled"] = *in.Disabled
	}
	if in.Password != nil {
		if p := passwordProblem(*in.Password, u.Username, u.DisplayName); p != "" {
			f.add("password", p)
		} else if cols["password_hash"], err = s.hashPassword(*in.Password); err != nil {
			return models.User{}, err
		}
	}
	if in.DisplayName != nil {
		cols["display_name"] = f.text("display_name", *in.DisplayName, false, 64)
	}
	if err := f.err(); err != nil {
		return models.User{}, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.LockForChange(ctx, "users", id); err != nil {
			return err
		}
		before, err := s.db.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.db.UpdateUser(ctx, id, cols); err != nil {
			return err
		}
		after, err := s.db.UserByID(ctx, id)
		if err != nil {
			return err
		}
		b, af := userFields(before), userFields(after)
		if in.Password != nil {
			// That the password was reset, never the password or its hash.
			b["password_reset"], af["password_reset"] = false, true
		}
		return s.auditChange(ctx, a, auditRecord{kind: AuditUserUpdate, objectType: AuditObjectUser, objectID: id,
			countyID: after.CountyID, summary: userLabel(after), before: b, after: af})
	})
	if err != nil {
		return models.User{}, storeErr(err, "用户")
	}
	s.active.mu.Lock()
	delete(s.active.m, id)
	s.active.mu.Unlock()
	u, err = s.db.UserByID(ctx, id)
	return u, storeErr(err, "用户")
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
// creates officers, auditors (抽查) and merchant accounts of its own county.
func (s *Service) CreateUser(ctx context.Context, a Actor, in UserInput) (models.User, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.User{}, errForbidden
	}
	f := fieldErrors{}
	if !usernameRe.MatchString(in.Username) {
		f.add("username", "3–64 位字母、数字或 _ . -")
	}
	if p := passwordProblem(in.Password, in.Username, in.DisplayName); p != "" {
		f.add("password", p)
	}
	name := f.text("display_name", in.DisplayName, false, 64)
	u := models.User{Username: in.Username, Role: in.Role, DisplayName: name}
	switch in.Role {
	case RoleCityAdmin:
		if in.CountyID != nil || in.MerchantID != nil {
			f.add("county_id", "市级管理员不属于区县")
		}
	case RoleCountyAdmin, RoleOfficer, RoleAuditor:
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
		f.add("role", "应为 city_admin、county_admin、officer、auditor 或 merchant")
	}
	if err := f.err(); err != nil {
		return models.User{}, err
	}
	merchant := ""
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
		if p := passwordProblem(in.Password, m.Name, m.Phone); p != "" {
			return models.User{}, Invalid(map[string]string{"password": p})
		}
		u.CountyID = &m.CountyID
		merchant = merchantLabel(m)
	}
	if a.Role == RoleCountyAdmin && (in.Role == RoleCityAdmin || in.Role == RoleCountyAdmin || *u.CountyID != a.CountyID) {
		return models.User{}, errForbidden
	}
	fields := userFields(u) // a new account is enabled: "disabled" says nothing
	delete(fields, "disabled")
	fields["merchant"] = merchant
	if u.CountyID != nil {
		c, err := s.db.CountyByID(ctx, *u.CountyID)
		if err != nil {
			if errors.Is(err, models.ErrNotFound) {
				return models.User{}, Invalid(map[string]string{"county_id": "区县不存在"})
			}
			return models.User{}, err
		}
		fields["county"] = c.Name
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return models.User{}, err
	}
	u.PasswordHash = hash
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.CreateUser(ctx, &u); err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditUserCreate, objectType: AuditObjectUser, objectID: u.ID,
			countyID: u.CountyID, summary: userLabel(u), after: nonEmpty(fields)})
	})
	if err != nil {
		u.ID = 0
	}
	return u, storeErr(err, "用户名")
}

// Me returns the actor's own account.
func (s *Service) Me(ctx context.Context, a Actor) (models.User, error) {
	u, err := s.db.UserByID(ctx, a.UserID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && u.Disabled) {
		return models.User{}, Errorf(CodeUnauthorized, "账号不存在或已停用")
	}
	return u, err
}
