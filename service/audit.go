package service

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/menqian/menqian/models"
)

// Audit event kinds (操作记录): every administrative change is one of these.
const (
	AuditCountyCreate   = "county.create"
	AuditCountyUpdate   = "county.update" // name, demonstration-road target
	AuditRoadCreate     = "road.create"
	AuditRoadUpdate     = "road.update" // name, town, length, responsible officers
	AuditDemonstration  = "road.demonstration"
	AuditMerchantCreate = "merchant.create"
	AuditMerchantUpdate = "merchant.update"
	AuditMerchantClose  = "merchant.close"  // status active → closed (with any other edits)
	AuditMerchantReopen = "merchant.reopen" // status closed → active
	AuditPlaqueReissue  = "plaque.reissue"
	AuditReversal       = "ledger.reverse"
	AuditAppealDecision = "appeal.decide" // an accepted appeal's reversal is part of it
	AuditUserCreate     = "user.create"
	AuditUserUpdate     = "user.update" // disable, enable, password reset, display name
	AuditImport         = "import.commit"
	// AuditCertificateRevoke: a credit certificate revoked (certificate.go).
	AuditCertificateRevoke = "certificate.revoke"
)

// AuditKinds lists the kinds in display order.
func AuditKinds() []string {
	return []string{AuditCountyCreate, AuditCountyUpdate, AuditRoadCreate, AuditRoadUpdate, AuditDemonstration,
		AuditMerchantCreate, AuditMerchantUpdate, AuditMerchantClose, AuditMerchantReopen, AuditPlaqueReissue,
		AuditImport, AuditReversal, AuditAppealDecision, AuditUserCreate, AuditUserUpdate, AuditCaseTransition,
		AuditOpen311Key, AuditOpen311Revoke, AuditCertificateRevoke, AuditSpotCheckDraw, AuditRepairDecision}
}

// Object types of audit events. Changes to a shop's ledger, plaque or
// appeals name the shop, whose page shows them.
const (
	AuditObjectCounty   = "county"
	AuditObjectRoad     = "road"
	AuditObjectMerchant = "merchant"
	AuditObjectUser     = "user"
)

// auditRecord is one change as a service method describes it.
type auditRecord struct {
	kind       string
	objectType string
	objectID   int64
	countyID   *int64
	summary    string
	before     map[string]any // nil: nothing before (a creation)
	after      map[string]any
}

// audit writes rec in the transaction of the change (ctx must carry it: the
// event commits with the change or not at all).
func (s *Service) audit(ctx context.Context, a Actor, rec auditRecord) error {
	encode := func(m map[string]any) (string, error) {
		if m == nil {
			return "", nil
		}
		b, err := json.Marshal(m) // keys sorted
		return string(b), err
	}
	before, err := encode(rec.before)
	if err != nil {
		return err
	}
	after, err := encode(rec.after)
	if err != nil {
		return err
	}
	return s.db.AppendAudit(ctx, &models.AuditEvent{CountyID: rec.countyID, ActorID: a.UserID, ActorName: a.Username,
		Kind: rec.kind, ObjectType: rec.objectType, ObjectID: rec.objectID, Summary: clip(rec.summary, 255),
		BeforeJSON: before, AfterJSON: after, OccurredAt: s.now().Truncate(time.Millisecond)})
}

// auditChange records an edit: only the fields whose values differ, and
// nothing at all when none does (an edit that changes nothing is no change).
func (s *Service) auditChange(ctx context.Context, a Actor, rec auditRecord) error {
	rec.before, rec.after = changedFields(rec.before, rec.after)
	if len(rec.after) == 0 && len(rec.before) == 0 {
		return nil
	}
	return s.audit(ctx, a, rec)
}

// changedFields keeps the keys whose values differ between before and after.
func changedFields(before, after map[string]any) (map[string]any, map[string]any) {
	b, a := map[string]any{}, map[string]any{}
	for k, v := range after {
		if w, ok := before[k]; !ok || !reflect.DeepEqual(v, w) {
			a[k] = v
			if ok {
				b[k] = w
			}
		}
	}
	for k, w := range before {
		if _, ok := after[k]; !ok {
			b[k] = w
		}
	}
	return b, a
}

// nonEmpty drops the empty values of a new object's fields.
func nonEmpty(m map[string]any) map[string]any {
	for k, v := range m {
		if v == nil || v == "" || (reflect.ValueOf(v).Kind() == reflect.Slice && reflect.ValueOf(v).Len() == 0) {
			delete(m, k)
		}
	}
	return m
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func optional[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func countyFields(c models.County) map[string]any {
	return map[string]any{"code": c.Code, "name": c.Name, "demo_road_target": c.DemoRoadTarget}
}

func countyLabel(c models.County) string { return c.Name + "（" + c.Code + "）" }

// roadFields are a road's audited fields; officers by name, in id order.
func (s *Service) roadFields(ctx context.Context, r models.Road, officerIDs []int64) (map[string]any, error) {
	names := map[int64]string{}
	if len(officerIDs) > 0 {
		var err error
		if names, err = s.userNames(ctx, officerIDs); err != nil {
			return nil, err
		}
	}
	ids := slices.Clone(officerIDs)
	slices.Sort(ids)
	officers := make([]string, len(ids))
	for i, id := range ids {
		officers[i] = names[id]
	}
	return map[string]any{"name": r.Name, "town": r.Town, "length_m": optional(r.LengthM), "officers": officers}, nil
}

// merchantFields are a merchant's audited fields, its road by name.
func merchantFields(m models.Merchant, road string) map[string]any {
	return map[string]any{"name": m.Name, "road": road, "uscc": optional(m.USCC), "category": m.Category,
		"owner_name": m.OwnerName, "phone": m.Phone, "address": m.Address, "lat": optional(m.Lat), "lng": optional(m.Lng),
		"status": m.Status}
}

func merchantLabel(m models.Merchant) string { return m.Name + "（" + m.Code + "）" }

// userFields are an account's audited fields: never its password or hash.
func userFields(u models.User) map[string]any {
	return map[string]any{"username": u.Username, "role": u.Role, "display_name": u.DisplayName, "disabled": u.Disabled}
}

func userLabel(u models.User) string {
	if u.DisplayName != "" {
		return u.Username + "（" + u.DisplayName + "）"
	}
	return u.Username
}

// auditMerchantEdit records an edit of merchant before → after: closing and
// reopening are kinds of their own, so the log can be filtered by them.
func (s *Service) auditMerchantEdit(ctx context.Context, a Actor, before, after models.Merchant) error {
	roads := map[int64]string{}
	for _, id := range []int64{before.RoadID, after.RoadID} {
		if _, ok := roads[id]; ok {
			continue
		}
		r, err := s.db.RoadByID(ctx, id)
		if err != nil {
			return err
		}
		roads[id] = r.Name
	}
	kind := AuditMerchantUpdate
	switch {
	case before.Status != "closed" && after.Status == "closed":
		kind = AuditMerchantClose
	case before.Status == "closed" && after.Status != "closed":
		kind = AuditMerchantReopen
	}
	return s.auditChange(ctx, a, auditRecord{kind: kind, objectType: AuditObjectMerchant, objectID: after.ID,
		countyID: &after.CountyID, summary: merchantLabel(after),
		before: merchantFields(before, roads[before.RoadID]), after: merchantFields(after, roads[after.RoadID])})
}

// entrySummary names a ledger entry: "第12号流水 HJWS-01 门前垃圾… −2分".
func (s *Service) entrySummary(m models.Merchant, e models.LedgerEntry) string {
	rule := e.RuleCode
	if it, ok := s.policy.Item(e.RuleCode); ok {
		rule += " " + it.Name
	}
	pts := "+" + strconv.Itoa(e.Points)
	if e.Points < 0 {
		pts = "−" + strconv.Itoa(-e.Points) // the minus sign, as the pages write it
	}
	return fmt.Sprintf("%s 第%d号流水 %s %s分", merchantLabel(m), e.ID, rule, pts)
}

// AuditView is an audit event with its fields decoded for display.
type AuditView struct {
	models.AuditEvent
	ActorDisplay string // the actor's display name now, else the username recorded
	Changes      []AuditChange
}

// AuditChange is one field of an event. Edited: the field had a value
// before (Before → After); else After is a value the change set (a new
// object's field, a reason given). Values are as JSON decodes them.
type AuditChange struct {
	Field         string
	Before, After any
	Edited        bool
}

// auditFieldOrder is the order fields are shown in; others follow by name.
var auditFieldOrder = []string{"code", "username", "name", "display_name", "role", "county", "merchant", "road", "town",
	"length_m", "officers", "uscc", "category", "owner_name", "phone", "address", "lat", "lng", "status", "disabled",
	"password_reset", "demo_road_target", "demo_status", "qr_generation", "entry_id", "rule_code", "points",
	"appeal_id", "appeal_status", "reversed", "reason", "note", "format", "rows", "created", "duplicates"}

// decodeChanges pairs the fields of an event's before and after; fields
// the same on both sides (which entry a reversal cancels) are left to the
// summary.
func decodeChanges(e models.AuditEvent) []AuditChange {
	var before, after map[string]any
	if e.BeforeJSON != "" {
		json.Unmarshal([]byte(e.BeforeJSON), &before)
	}
	if e.AfterJSON != "" {
		json.Unmarshal([]byte(e.AfterJSON), &after)
	}
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	order := func(k string) int {
		if i := slices.Index(auditFieldOrder, k); i >= 0 {
			return i
		}
		return len(auditFieldOrder)
	}
	out := make([]AuditChange, 0, len(keys))
	for k := range keys {
		b, edited := before[k]
		if a, ok := after[k]; ok && edited && reflect.DeepEqual(a, b) {
			continue
		}
		out = append(out, AuditChange{Field: k, Before: b, After: after[k], Edited: edited})
	}
	sort.Slice(out, func(i, j int) bool {
		oi, oj := order(out[i].Field), order(out[j].Field)
		if oi != oj {
			return oi < oj
		}
		return out[i].Field < out[j].Field
	})
	return out
}

// AuditFilter narrows AuditEvents.
type AuditFilter struct {
	CountyID int64  // 0: the actor's county, or every county (and city-level events) for the city admin
	Kind     string // "" for every kind
	Paging
}

// AuditEvents lists administrative changes, newest first: a county admin its
// own county's, the city admin any county's or all.
// Errors: CodeForbidden (other roles, another county), CodeInvalid (kind, paging).
func (s *Service) AuditEvents(ctx context.Context, a Actor, f AuditFilter) ([]AuditView, int64, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return nil, 0, errForbidden
	}
	p, err := f.Paging.check()
	if err != nil {
		return nil, 0, err
	}
	if f.Kind != "" && !slices.Contains(AuditKinds(), f.Kind) {
		return nil, 0, Invalid(map[string]string{"kind": "未知的操作类型"})
	}
	scope := a.countyScope()
	if f.CountyID != 0 {
		if !a.InCounty(f.CountyID) {
			return nil, 0, errForbidden
		}
		scope = []int64{f.CountyID}
	}
	events, total, err := s.db.ListAuditEvents(ctx, models.AuditFilter{CountyIDs: scope, Kind: f.Kind, Limit: p.Limit, Offset: p.Offset})
	if err != nil || len(events) == 0 {
		return []AuditView{}, total, err
	}
	actors := make([]int64, len(events))
	for i, e := range events {
		actors[i] = e.ActorID
	}
	names, err := s.userNames(ctx, actors)
	if err != nil {
		return nil, 0, err
	}
	out := make([]AuditView, len(events))
	for i, e := range events {
		out[i] = AuditView{AuditEvent: e, ActorDisplay: e.ActorName, Changes: decodeChanges(e)}
		if n := names[e.ActorID]; n != "" && n != e.ActorName {
			out[i].ActorDisplay = n + "（" + e.ActorName + "）"
		}
	}
	return out, total, nil
}
