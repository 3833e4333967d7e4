package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
)

// auditWorld is a service on a fresh database and a cursor over its audit log.
type auditWorld struct {
	t     *testing.T
	s     *Service
	db    *models.DB
	admin Actor
	seen  int64 // the id of the last event checked
}

func newAuditWorld(t *testing.T, d models.Dialect) *auditWorld {
	t.Helper()
	db := dbtest.Open(t, d)
	now := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
	s := New(Options{DB: db, Policy: policy.Default(), Secret: []byte("test-secret-0123456789"), Photos: photostore.NewLocal(t.TempDir()),
		PublicURL: "http://mq.test", Clock: func() time.Time { return now }, PasswordCost: bcrypt.MinCost})
	if _, _, err := s.Bootstrap(context.Background(), "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	return &auditWorld{t: t, s: s, db: db, admin: Actor{UserID: 1, Username: "admin", Role: RoleCityAdmin}}
}

// fresh returns the events written since the last call, oldest first.
func (w *auditWorld) fresh() []models.AuditEvent {
	w.t.Helper()
	all, _, err := w.db.ListAuditEvents(context.Background(), models.AuditFilter{Limit: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []models.AuditEvent
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].ID > w.seen {
			out = append(out, all[i])
			w.seen = all[i].ID
		}
	}
	return out
}

// none checks that what just happened recorded nothing.
func (w *auditWorld) none(what string) {
	w.t.Helper()
	if got := w.fresh(); len(got) != 0 {
		w.t.Errorf("%s recorded %d events: %+v", what, len(got), got)
	}
}

// jsonOf is the stored form of a field map ("" for nil).
func jsonOf(m map[string]any) string {
	if m == nil {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// one checks that what just happened recorded exactly one event, of kind by
// actor about the object in county, with before and after as given.
func (w *auditWorld) one(what string, by Actor, kind, objectType string, objectID int64, county *int64,
	before, after map[string]any) models.AuditEvent {
	w.t.Helper()
	got := w.fresh()
	if len(got) != 1 {
		w.t.Errorf("%s recorded %d events, want 1: %+v", what, len(got), got)
		if len(got) == 0 {
			return models.AuditEvent{}
		}
	}
	e := got[0]
	if e.Kind != kind || e.ObjectType != objectType || e.ObjectID != objectID {
		w.t.Errorf("%s: event %s %s %d, want %s %s %d", what, e.Kind, e.ObjectType, e.ObjectID, kind, objectType, objectID)
	}
	if (e.CountyID == nil) != (county == nil) || (county != nil && *e.CountyID != *county) {
		w.t.Errorf("%s: county %v, want %v", what, optional(e.CountyID), optional(county))
	}
	if e.ActorID != by.UserID || e.ActorName != by.Username {
		w.t.Errorf("%s: actor %d %q, want %d %q", what, e.ActorID, e.ActorName, by.UserID, by.Username)
	}
	if e.BeforeJSON != jsonOf(before) || e.AfterJSON != jsonOf(after) {
		w.t.Errorf("%s:\n before %s\n want   %s\n after  %s\n want   %s", what, e.BeforeJSON, jsonOf(before), e.AfterJSON, jsonOf(after))
	}
	if want := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC); !e.OccurredAt.Equal(want) {
		w.t.Errorf("%s: at %v, want %v", what, e.OccurredAt, want)
	}
	return e
}

func (w *auditWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// refused checks err is a service error of code and that nothing was recorded.
func (w *auditWorld) refused(what string, err error, code string) {
	w.t.Helper()
	if ErrorCode(err) != code {
		w.t.Errorf("%s: %v, want %s", what, err, code)
	}
	w.none(what)
}

func auditPNG(shade uint8) *bytes.Buffer {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Pix[0] = shade
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return &buf
}

// TestAuditRecordsEachChangeOnce makes every kind of administrative change
// through the service and checks each records exactly one event with the
// right before and after, in the change's transaction: refused and failed
// changes record nothing, and no password or hash ever reaches the log.
func TestAuditRecordsEachChangeOnce(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newAuditWorld(t, d)
			ctx := context.Background()
			s, admin := w.s, w.admin
			str := func(v string) *string { return &v }
			num := func(v int) *int { return &v }
			passwords := []string{"admin-password-1"}
			user := func(in UserInput) Actor {
				t.Helper()
				passwords = append(passwords, in.Password)
				u, err := s.CreateUser(ctx, admin, in)
				w.must(err)
				return Actor{UserID: u.ID, Username: u.Username, Role: u.Role, CountyID: deref(u.CountyID), MerchantID: deref(u.MerchantID)}
			}

			// Counties.
			c, err := s.CreateCounty(ctx, admin, CountyInput{Code: str("370303"), Name: str("张店区")})
			w.must(err)
			w.one("CreateCounty", admin, AuditCountyCreate, AuditObjectCounty, c.ID, &c.ID, nil,
				map[string]any{"code": "370303", "name": "张店区", "demo_road_target": 10})
			_, err = s.UpdateCounty(ctx, admin, c.ID, CountyInput{DemoRoadTarget: num(12), Name: str("张店区")})
			w.must(err)
			w.one("UpdateCounty (target)", admin, AuditCountyUpdate, AuditObjectCounty, c.ID, &c.ID,
				map[string]any{"demo_road_target": 10}, map[string]any{"demo_road_target": 12})
			_, err = s.UpdateCounty(ctx, admin, c.ID, CountyInput{DemoRoadTarget: num(12)})
			w.must(err)
			w.none("UpdateCounty changing nothing")
			_, err = s.CreateCounty(ctx, admin, CountyInput{Code: str("370303"), Name: str("又一个张店区")})
			w.refused("CreateCounty with a taken code", err, CodeDuplicate)
			_, err = s.CreateCounty(ctx, admin, CountyInput{Code: str("37030"), Name: str("坏代码")})
			w.refused("CreateCounty with a bad code", err, CodeInvalid)
			_, err = s.UpdateCounty(ctx, admin, c.ID+100, CountyInput{DemoRoadTarget: num(3)})
			w.refused("UpdateCounty of no county", err, CodeNotFound)
			other, err := s.CreateCounty(ctx, admin, CountyInput{Code: str("370302"), Name: str("淄川区")})
			w.must(err)
			w.fresh()

			// Accounts (creation).
			county := user(UserInput{Username: "admin370303", Password: "county-password-1", Role: RoleCountyAdmin, CountyID: &c.ID})
			w.one("CreateUser (county admin)", admin, AuditUserCreate, AuditObjectUser, county.UserID, &c.ID, nil,
				map[string]any{"username": "admin370303", "role": RoleCountyAdmin, "county": "张店区"})
			officer := user(UserInput{Username: "officer370303", Password: "officer-password-1", Role: RoleOfficer, CountyID: &c.ID, DisplayName: "王巡查"})
			w.one("CreateUser (officer)", admin, AuditUserCreate, AuditObjectUser, officer.UserID, &c.ID, nil,
				map[string]any{"username": "officer370303", "role": RoleOfficer, "county": "张店区", "display_name": "王巡查"})
			city2 := user(UserInput{Username: "city2", Password: "city2-password-1", Role: RoleCityAdmin})
			w.one("CreateUser (city admin)", admin, AuditUserCreate, AuditObjectUser, city2.UserID, nil, nil,
				map[string]any{"username": "city2", "role": RoleCityAdmin})
			_, err = s.CreateUser(ctx, county, UserInput{Username: "officer2", Password: "officer-password-2", Role: RoleOfficer, CountyID: &other.ID})
			w.refused("CreateUser in another county", err, CodeForbidden)
			_, err = s.CreateUser(ctx, admin, UserInput{Username: "officer370303", Password: "officer-password-3", Role: RoleOfficer, CountyID: &c.ID})
			w.refused("CreateUser with a taken username", err, CodeDuplicate)

			// Roads, officers, demonstration.
			road, err := s.CreateRoad(ctx, county, RoadInput{CountyID: &c.ID, Name: str("柳泉路"), Town: str("车站街道"), OfficerIDs: &[]int64{officer.UserID}})
			w.must(err)
			w.one("CreateRoad", county, AuditRoadCreate, AuditObjectRoad, road.ID, &c.ID, nil,
				map[string]any{"name": "柳泉路", "town": "车站街道", "officers": []string{"王巡查"}})
			_, err = s.CreateRoad(ctx, county, RoadInput{CountyID: &c.ID, Name: str("柳泉路")})
			w.refused("CreateRoad with a taken name", err, CodeDuplicate)
			_, err = s.UpdateRoad(ctx, county, road.ID, RoadInput{Name: str("柳泉东路"), LengthM: num(800), OfficerIDs: &[]int64{}})
			w.must(err)
			w.one("UpdateRoad", county, AuditRoadUpdate, AuditObjectRoad, road.ID, &c.ID,
				map[string]any{"name": "柳泉路", "length_m": nil, "officers": []string{"王巡查"}},
				map[string]any{"name": "柳泉东路", "length_m": 800, "officers": []string{}})
			_, err = s.UpdateRoad(ctx, county, road.ID, RoadInput{OfficerIDs: &[]int64{county.UserID}})
			w.refused("UpdateRoad with a county admin as officer", err, CodeInvalid)
			road2, err := s.CreateRoad(ctx, admin, RoadInput{CountyID: &other.ID, Name: str("松龄路")})
			w.must(err)
			w.fresh()
			_, err = s.UpdateRoad(ctx, county, road2.ID, RoadInput{Name: str("改名")})
			w.refused("UpdateRoad of another county", err, CodeNotFound)
			_, err = s.SetDemonstration(ctx, county, road.ID, DemoCandidate, "申报示范路")
			w.must(err)
			w.one("SetDemonstration", county, AuditDemonstration, AuditObjectRoad, road.ID, &c.ID,
				map[string]any{"demo_status": DemoNone}, map[string]any{"demo_status": DemoCandidate, "note": "申报示范路"})
			_, err = s.SetDemonstration(ctx, county, road.ID, DemoAccepted, "")
			w.refused("SetDemonstration skipping a state", err, CodeConflict)
			_, err = s.SetDemonstration(ctx, county, road2.ID, DemoCandidate, "")
			w.refused("SetDemonstration of another county", err, CodeNotFound)

			// Shops: create, edit, close, reopen, plaque.
			uscc := "91370303MA3C5LXA0"
			m, err := s.CreateMerchant(ctx, county, MerchantInput{RoadID: &road.ID, Name: str("张记烧烤"), USCC: str(uscc + string(USCCCheckChar(uscc))),
				Phone: str("13853312345"), OwnerName: str("张三")})
			w.must(err)
			w.one("CreateMerchant", county, AuditMerchantCreate, AuditObjectMerchant, m.ID, &c.ID, nil,
				map[string]any{"name": "张记烧烤", "road": "柳泉东路", "uscc": *m.USCC, "owner_name": "张三", "phone": "13853312345", "status": "active"})
			m2, err := s.CreateMerchant(ctx, county, MerchantInput{RoadID: &road.ID, Name: str("李家面馆")})
			w.must(err)
			w.fresh()
			_, err = s.CreateMerchant(ctx, county, MerchantInput{RoadID: &road2.ID, Name: str("别人的店")})
			w.refused("CreateMerchant on another county's road", err, CodeInvalid)
			_, err = s.UpdateMerchant(ctx, county, m.ID, MerchantInput{Phone: str("13953312345"), Name: str("张记烧烤")})
			w.must(err)
			w.one("UpdateMerchant", county, AuditMerchantUpdate, AuditObjectMerchant, m.ID, &c.ID,
				map[string]any{"phone": "13853312345"}, map[string]any{"phone": "13953312345"})
			_, err = s.UpdateMerchant(ctx, county, m.ID, MerchantInput{Phone: str("12345")})
			w.refused("UpdateMerchant with a bad phone", err, CodeInvalid)
			_, err = s.UpdateMerchant(ctx, county, m2.ID, MerchantInput{USCC: m.USCC})
			w.refused("UpdateMerchant to a taken USCC", err, CodeDuplicate)
			shop2, err := s.CreateMerchant(ctx, admin, MerchantInput{RoadID: &road2.ID, Name: str("淄川的店")})
			w.must(err)
			w.fresh()
			_, err = s.UpdateMerchant(ctx, county, shop2.ID, MerchantInput{Name: str("改名")})
			w.refused("UpdateMerchant of another county", err, CodeNotFound)
			_, err = s.UpdateMerchant(ctx, county, m2.ID, MerchantInput{Status: str("closed")})
			w.must(err)
			w.one("UpdateMerchant (close)", county, AuditMerchantClose, AuditObjectMerchant, m2.ID, &c.ID,
				map[string]any{"status": "active"}, map[string]any{"status": "closed"})
			_, err = s.UpdateMerchant(ctx, county, m2.ID, MerchantInput{Status: str("active")})
			w.must(err)
			w.one("UpdateMerchant (reopen)", county, AuditMerchantReopen, AuditObjectMerchant, m2.ID, &c.ID,
				map[string]any{"status": "closed"}, map[string]any{"status": "active"})
			_, err = s.ReissuePlaque(ctx, county, m.ID)
			w.must(err)
			w.one("ReissuePlaque", county, AuditPlaqueReissue, AuditObjectMerchant, m.ID, &c.ID,
				map[string]any{"qr_generation": 1}, map[string]any{"qr_generation": 2})
			_, err = s.ReissuePlaque(ctx, county, shop2.ID)
			w.refused("ReissuePlaque of another county", err, CodeNotFound)

			// The ledger and appeals.
			deduct := func(rule string, pts int, shade uint8) int64 {
				t.Helper()
				ph, err := s.UploadPhoto(ctx, officer, auditPNG(shade))
				w.must(err)
				_, _, err = s.RecordInspection(ctx, officer, fmt.Sprintf("k-%s-%d", rule, shade),
					InspectionInput{MerchantID: m.ID, Items: []InspectionItem{{RuleCode: rule, Points: &pts}}, Photos: []int64{ph.ID}})
				w.must(err)
				es, err := w.db.LedgerOf(ctx, m.ID, "")
				w.must(err)
				return es[len(es)-1].ID
			}
			e1, e2, e3 := deduct("HJWS-01", 2, 1), deduct("HJWS-02", 3, 2), deduct("ZXLH-02", 3, 3)
			w.none("RecordInspection (not an administrative change)")
			_, _, err = s.ReverseEntry(ctx, county, m.ID, e1, "")
			w.refused("ReverseEntry without a reason", err, CodeInvalid)
			_, _, err = s.ReverseEntry(ctx, county, m.ID, e1, "重复录入")
			w.must(err)
			ev := w.one("ReverseEntry", county, AuditReversal, AuditObjectMerchant, m.ID, &c.ID,
				map[string]any{"entry_id": e1, "rule_code": "HJWS-01", "points": -2, "reversed": false},
				map[string]any{"entry_id": e1, "rule_code": "HJWS-01", "points": -2, "reversed": true, "reason": "重复录入"})
			if want := fmt.Sprintf("第%d号流水 HJWS-01", e1); !strings.Contains(ev.Summary, want) || !strings.Contains(ev.Summary, "张记烧烤") {
				t.Errorf("reversal summary %q lacks the shop and %q", ev.Summary, want)
			}
			_, _, err = s.ReverseEntry(ctx, county, m.ID, e1, "再冲一次")
			w.refused("ReverseEntry of a reversed entry", err, CodeConflict)

			shop := user(UserInput{Username: "shop370303", Password: "shop-password-1", Role: RoleMerchant, MerchantID: &m.ID})
			w.one("CreateUser (merchant)", admin, AuditUserCreate, AuditObjectUser, shop.UserID, &c.ID, nil,
				map[string]any{"username": "shop370303", "role": RoleMerchant, "county": "张店区", "merchant": merchantLabel(m)})
			ap2, err := s.FileAppeal(ctx, shop, m.ID, e2, "当时已清扫")
			w.must(err)
			ap3, err := s.FileAppeal(ctx, shop, m.ID, e3, "不是我家的东西")
			w.must(err)
			w.none("FileAppeal (the merchant's, not an administrative change)")
			_, err = s.DecideAppeal(ctx, county, ap2.ID, false, "")
			w.refused("DecideAppeal rejecting without a note", err, CodeInvalid)
			_, err = s.DecideAppeal(ctx, county, ap2.ID, false, "照片显示未清扫")
			w.must(err)
			w.one("DecideAppeal (reject)", county, AuditAppealDecision, AuditObjectMerchant, m.ID, &c.ID,
				map[string]any{"appeal_id": ap2.ID, "entry_id": e2, "appeal_status": models.AppealPending},
				map[string]any{"appeal_id": ap2.ID, "entry_id": e2, "appeal_status": models.AppealRejected, "note": "照片显示未清扫"})
			_, err = s.DecideAppeal(ctx, county, ap2.ID, true, "")
			w.refused("DecideAppeal of a decided appeal", err, CodeConflict)
			_, err = s.DecideAppeal(ctx, county, ap3.ID, true, "")
			w.must(err)
			w.one("DecideAppeal (accept, with its reversal)", county, AuditAppealDecision, AuditObjectMerchant, m.ID, &c.ID,
				map[string]any{"appeal_id": ap3.ID, "entry_id": e3, "appeal_status": models.AppealPending},
				map[string]any{"appeal_id": ap3.ID, "entry_id": e3, "appeal_status": models.AppealAccepted, "reversed": true})

			// Accounts (changes).
			_, err = s.UpdateUser(ctx, county, officer.UserID, UserChange{Disabled: ptrTo(true)})
			w.must(err)
			w.one("UpdateUser (disable)", county, AuditUserUpdate, AuditObjectUser, officer.UserID, &c.ID,
				map[string]any{"disabled": false}, map[string]any{"disabled": true})
			_, err = s.UpdateUser(ctx, county, officer.UserID, UserChange{Disabled: ptrTo(false)})
			w.must(err)
			w.one("UpdateUser (enable)", county, AuditUserUpdate, AuditObjectUser, officer.UserID, &c.ID,
				map[string]any{"disabled": true}, map[string]any{"disabled": false})
			const reset = "a-brand-new-secret-9"
			passwords = append(passwords, reset)
			_, err = s.UpdateUser(ctx, county, officer.UserID, UserChange{Password: ptrTo(reset)})
			w.must(err)
			w.one("UpdateUser (password reset)", county, AuditUserUpdate, AuditObjectUser, officer.UserID, &c.ID,
				map[string]any{"password_reset": false}, map[string]any{"password_reset": true})
			_, err = s.UpdateUser(ctx, county, officer.UserID, UserChange{DisplayName: ptrTo("王二巡查")})
			w.must(err)
			w.one("UpdateUser (display name)", county, AuditUserUpdate, AuditObjectUser, officer.UserID, &c.ID,
				map[string]any{"display_name": "王巡查"}, map[string]any{"display_name": "王二巡查"})
			_, err = s.UpdateUser(ctx, county, county.UserID, UserChange{Disabled: ptrTo(true)})
			w.refused("UpdateUser of a county admin by a county admin", err, CodeNotFound)
			_, err = s.UpdateUser(ctx, admin, admin.UserID, UserChange{Disabled: ptrTo(true)})
			w.refused("UpdateUser disabling oneself", err, CodeInvalid)
			_, err = s.UpdateUser(ctx, county, officer.UserID, UserChange{Password: ptrTo("short")})
			w.refused("UpdateUser with a short password", err, CodeInvalid)

			// Import: one event per committed file.
			csv := "商户名称,道路\n水果店,柳泉东路\n五金店,柳泉东路\n张记烧烤,柳泉东路\n"
			rep, err := s.ImportMerchants(ctx, county, c.ID, "csv", strings.NewReader(csv), false)
			w.must(err)
			if rep.Created != 0 || rep.Valid != 3 {
				t.Fatalf("dry run: %+v", rep)
			}
			w.none("ImportMerchants (dry run)")
			rep, err = s.ImportMerchants(ctx, county, c.ID, "csv", strings.NewReader("商户名称,道路\n水果店,无此路\n"), true)
			w.must(err)
			if len(rep.Errors) != 1 || rep.Created != 0 {
				t.Fatalf("commit with a bad row: %+v", rep)
			}
			w.none("ImportMerchants (a commit with a bad row)")
			_, err = s.ImportMerchants(ctx, county, other.ID, "csv", strings.NewReader(csv), true)
			w.refused("ImportMerchants into another county", err, CodeNotFound)
			rep, err = s.ImportMerchants(ctx, county, c.ID, "csv", strings.NewReader(csv), true)
			w.must(err)
			if rep.Created != 2 || len(rep.Duplicates) != 1 {
				t.Fatalf("import: %+v", rep)
			}
			ev = w.one("ImportMerchants", county, AuditImport, AuditObjectCounty, c.ID, &c.ID, nil,
				map[string]any{"format": "csv", "rows": 3, "created": 2, "duplicates": 1})
			if !strings.Contains(ev.Summary, "2 户") {
				t.Errorf("import summary %q does not give the count", ev.Summary)
			}

			// No password, and no hash, anywhere in the log.
			all, _, err := w.db.ListAuditEvents(ctx, models.AuditFilter{Limit: 1000})
			w.must(err)
			var hashes []string
			rows, err := w.db.SQL().QueryContext(ctx, "SELECT password_hash FROM users")
			w.must(err)
			for rows.Next() {
				var h string
				rows.Scan(&h)
				hashes = append(hashes, h)
			}
			rows.Close()
			for _, e := range all {
				text := e.Summary + e.BeforeJSON + e.AfterJSON + e.ActorName
				for _, secret := range append(append([]string{"$2a$", "password_hash"}, passwords...), hashes...) {
					if strings.Contains(text, secret) {
						t.Errorf("event %d (%s) contains %q: %s", e.ID, e.Kind, secret, text)
					}
				}
			}
			if len(all) < 25 {
				t.Errorf("only %d events in all", len(all))
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestAuditLogIsAppendOnly: the database refuses UPDATE and DELETE of audit
// events, and the storage refuses an event outside a transaction.
func TestAuditLogIsAppendOnly(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newAuditWorld(t, d)
			ctx := context.Background()
			name := "张店区"
			code := "370303"
			_, err := w.s.CreateCounty(ctx, w.admin, CountyInput{Code: &code, Name: &name})
			w.must(err)
			exec := func(q string) error { _, err := w.db.SQL().ExecContext(ctx, q); return err }
			if err := exec("UPDATE audit_events SET summary = 'forged'"); err == nil {
				t.Error("UPDATE of an audit event succeeded")
			}
			if err := exec("DELETE FROM audit_events"); err == nil {
				t.Error("DELETE of an audit event succeeded")
			}
			got := w.fresh()
			if len(got) != 1 || got[0].Summary != "张店区（370303）" {
				t.Errorf("events after UPDATE and DELETE: %+v", got)
			}
			if err := w.db.AppendAudit(ctx, &models.AuditEvent{Kind: AuditCountyUpdate, OccurredAt: time.Now()}); err == nil {
				t.Error("an audit event outside a transaction was stored")
			}
			w.none("AppendAudit outside a transaction")
		})
	}
}

// TestAuditEventsScope: a county admin reads its own county's events only,
// the city admin any county's or all (city-level ones too); officers and
// merchants read none; kinds filter; pages are newest first.
func TestAuditEventsScope(t *testing.T) {
	w := newAuditWorld(t, models.SQLite) // the queries are the same on MySQL (TestAuditRecordsEachChangeOnce reads them there)
	ctx := context.Background()
	s, admin := w.s, w.admin
	var counties [2]int64
	var admins [2]Actor
	for i, c := range [][2]string{{"370303", "张店区"}, {"370302", "淄川区"}} {
		county, err := s.CreateCounty(ctx, admin, CountyInput{Code: &c[0], Name: &c[1]})
		w.must(err)
		counties[i] = county.ID
		u, err := s.CreateUser(ctx, admin, UserInput{Username: "admin" + c[0], Password: "county-password-1", Role: RoleCountyAdmin, CountyID: &county.ID})
		w.must(err)
		admins[i] = Actor{UserID: u.ID, Username: u.Username, Role: RoleCountyAdmin, CountyID: county.ID}
		for _, r := range []string{"柳泉路", "华光路", "共青团路"} {
			_, err := s.CreateRoad(ctx, admins[i], RoadInput{CountyID: &county.ID, Name: &r})
			w.must(err)
		}
	}
	_, err := s.CreateUser(ctx, admin, UserInput{Username: "city2", Password: "city2-password-1", Role: RoleCityAdmin})
	w.must(err)
	// 2 × (county, admin, 3 roads) + the city admin = 11 events, and a road edit below.

	list := func(a Actor, f AuditFilter) ([]AuditView, int64) {
		t.Helper()
		evs, total, err := s.AuditEvents(ctx, a, f)
		w.must(err)
		return evs, total
	}
	evs, total := list(admins[0], AuditFilter{})
	if total != 5 || len(evs) != 5 {
		t.Fatalf("county admin sees %d of %d, want 5", len(evs), total)
	}
	for i, e := range evs {
		if e.CountyID == nil || *e.CountyID != counties[0] {
			t.Errorf("county admin sees an event of county %v", optional(e.CountyID))
		}
		if i > 0 && e.ID > evs[i-1].ID {
			t.Errorf("not newest first: %d after %d", e.ID, evs[i-1].ID)
		}
	}
	if evs[0].Kind != AuditRoadCreate || evs[0].Summary != "共青团路" || evs[0].ActorDisplay != "admin370303" {
		t.Errorf("newest: %s %q by %q", evs[0].Kind, evs[0].Summary, evs[0].ActorDisplay)
	}
	if ch := evs[0].Changes; len(ch) != 1 || ch[0] != (AuditChange{Field: "name", After: "共青团路"}) {
		t.Errorf("changes of a road creation: %+v", ch)
	}
	_, err = s.UpdateRoad(ctx, admins[0], evs[0].ObjectID, RoadInput{Name: ptrTo("共青团东路"), Town: ptrTo("科苑街道")})
	w.must(err)
	evs, _ = list(admins[0], AuditFilter{Paging: Paging{Limit: 1}})
	if ch := evs[0].Changes; len(ch) != 2 || ch[0] != (AuditChange{Field: "name", Before: "共青团路", After: "共青团东路", Edited: true}) ||
		ch[1] != (AuditChange{Field: "town", Before: "", After: "科苑街道", Edited: true}) {
		t.Errorf("changes of a road edit: %+v", ch)
	}
	if _, _, err := s.AuditEvents(ctx, admins[0], AuditFilter{CountyID: counties[1]}); ErrorCode(err) != CodeForbidden {
		t.Errorf("county admin asking for another county: %v, want forbidden", err)
	}
	for _, a := range []Actor{{UserID: 99, Role: RoleOfficer, CountyID: counties[0]}, {UserID: 98, Role: RoleMerchant, MerchantID: 1}} {
		if _, _, err := s.AuditEvents(ctx, a, AuditFilter{}); ErrorCode(err) != CodeForbidden {
			t.Errorf("%s: %v, want forbidden", a.Role, err)
		}
	}
	if _, total := list(admin, AuditFilter{}); total != 12 {
		t.Errorf("city admin sees %d, want 12 (city-level included)", total)
	}
	evs, total = list(admin, AuditFilter{CountyID: counties[1], Kind: AuditRoadCreate, Paging: Paging{Limit: 2, Offset: 2}})
	if total != 3 || len(evs) != 1 || evs[0].Summary != "柳泉路" || *evs[0].CountyID != counties[1] {
		t.Errorf("city admin, second county's road creations, page 2: %d of %d: %+v", len(evs), total, evs)
	}
	if _, _, err := s.AuditEvents(ctx, admin, AuditFilter{Kind: "drop table"}); ErrorCode(err) != CodeInvalid {
		t.Errorf("unknown kind: %v, want invalid", err)
	}
}
