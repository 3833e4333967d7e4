package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Open311 GeoReport v2, the read side (issue 14): the reportable catalogue
// items are its services, and the citizens' cases its service requests, as
// the public may see them: the item, the shop (its plaque is public), the
// county, the state and dates. Never the reporter, the notes or the officer.
// A request's id is the case's receipt, which is also its token.

// Open311Service is one reportable item.
type Open311Service struct {
	Code, Name, Group, Description string
}

// Open311Services are the catalogue's deduction items, then 其他.
func (s *Service) Open311Services() []Open311Service {
	var out []Open311Service
	for _, it := range s.policy.Items {
		if it.Kind == policy.Deduction {
			out = append(out, Open311Service{Code: it.Code, Name: it.Name, Group: it.Category, Description: it.Category + "：" + it.Name})
		}
	}
	return append(out, Open311Service{Code: models.CaseOther, Name: "其他", Group: "其他", Description: "目录以外的门前问题"})
}

// Open311Service returns the service of code.
func (s *Service) Open311Service(code string) (Open311Service, bool) {
	for _, sv := range s.Open311Services() {
		if sv.Code == code {
			return sv, true
		}
	}
	return Open311Service{}, false
}

// Open311Request is a case as a service request.
type Open311Request struct {
	ID          string // the receipt
	Status      string // open or closed (dismissed cases are closed)
	StatusNotes string // the case's state in Chinese
	ServiceCode string
	ServiceName string
	Agency      string // the county
	RequestedAt time.Time
	UpdatedAt   time.Time
	ExpectedAt  *time.Time // the deadline, once dispatched
	Address     string     // the shop and its road
	Lat, Long   *float64
}

// Open311Query selects service requests. With IDs, the other fields are
// ignored (as the spec says); else the requests received from Start to End
// (by default the 90 days up to now), at most Open311MaxRequests of them.
type Open311Query struct {
	IDs          []string
	ServiceCodes []string
	Status       string // "", "open" or "closed"
	Start, End   time.Time
}

// Open311 limits: the spec's default window and the most requests one answer holds.
const (
	Open311Window      = 90 * 24 * time.Hour
	Open311MaxRequests = 1000
)

// Open311Requests lists the requests q selects, newest first. Errors:
// CodeInvalid (a bad status or service code, or an empty window).
func (s *Service) Open311Requests(ctx context.Context, q Open311Query) ([]Open311Request, error) {
	f := models.PublicCaseFilter{Limit: Open311MaxRequests}
	if q.IDs != nil {
		f.Receipts = []string{}
		for _, id := range q.IDs {
			if id = strings.ToUpper(strings.TrimSpace(id)); ValidReceipt(id) {
				f.Receipts = append(f.Receipts, id)
			}
		}
		f.To = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	} else {
		f.To = q.End
		if f.To.IsZero() {
			f.To = s.now().Add(time.Millisecond)
		}
		f.From = q.Start
		if f.From.IsZero() {
			f.From = f.To.Add(-Open311Window)
		}
		if !f.From.Before(f.To) {
			return nil, Invalid(map[string]string{"start_date": "start_date must be before end_date"})
		}
		for _, c := range q.ServiceCodes {
			if _, ok := s.Open311Service(c); !ok {
				return nil, Invalid(map[string]string{"service_code": "unknown service_code " + c})
			}
			f.RuleCodes = append(f.RuleCodes, c)
		}
		switch q.Status {
		case "":
		case "open", "closed":
			open := q.Status == "open"
			f.Open = &open
		default:
			return nil, Invalid(map[string]string{"status": "status must be open or closed"})
		}
	}
	lines, err := s.db.ListPublicCases(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Open311Request, len(lines))
	for i, l := range lines {
		r := Open311Request{ID: l.Receipt, Status: "open", StatusNotes: CaseStatusName(l.Status), ServiceCode: l.RuleCode,
			ServiceName: s.caseItemName(l.RuleCode), Agency: l.CountyName, RequestedAt: l.ReceivedAt, UpdatedAt: l.UpdatedAt,
			ExpectedAt: l.DueAt, Lat: l.Lat, Long: l.Lng}
		if l.Status == models.CaseClosed || l.Status == models.CaseDismissed {
			r.Status = "closed"
		}
		if l.MerchantName != "" {
			r.Address = l.MerchantName + "（" + l.RoadName + "）"
		}
		out[i] = r
	}
	return out, nil
}

// Open311 api keys are issued by the city admin to the systems that file
// service requests (a city platform, a WeChat mini program). The key is
// shown once; only its SHA-256 is kept.

// Audit kinds and object type of the Open311 keys.
const (
	AuditOpen311Key       = "open311.key"
	AuditOpen311Revoke    = "open311.revoke"
	AuditObjectOpen311Key = "open311_key"
)

// Open311KeyPrefix starts every key, so a leaked one is recognisable.
const Open311KeyPrefix = "mq311_"

// IssueOpen311Key makes a key named name (who uses it). City admin only.
func (s *Service) IssueOpen311Key(ctx context.Context, a Actor, name string) (string, models.Open311Key, error) {
	if !a.can(RoleCityAdmin) {
		return "", models.Open311Key{}, errForbidden
	}
	f := fieldErrors{}
	name = f.text("name", name, true, 64)
	if err := f.err(); err != nil {
		return "", models.Open311Key{}, err
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", models.Open311Key{}, err
	}
	key := Open311KeyPrefix + hex.EncodeToString(b)
	k := models.Open311Key{Name: name, KeyHash: open311Hash(key), CreatedBy: a.UserID, CreatedAt: s.now().Truncate(time.Millisecond)}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.CreateOpen311Key(ctx, &k); err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditOpen311Key, objectType: AuditObjectOpen311Key, objectID: k.ID,
			summary: k.Name, after: map[string]any{"name": k.Name}})
	})
	if err != nil {
		return "", models.Open311Key{}, err
	}
	return key, k, nil
}

// Open311Keys lists the keys (without them). City admin only.
func (s *Service) Open311Keys(ctx context.Context, a Actor) ([]models.Open311Key, error) {
	if !a.can(RoleCityAdmin) {
		return nil, errForbidden
	}
	return s.db.Open311Keys(ctx)
}

// RevokeOpen311Key revokes key id at once. City admin only.
func (s *Service) RevokeOpen311Key(ctx context.Context, a Actor, id int64) error {
	if !a.can(RoleCityAdmin) {
		return errForbidden
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.RevokeOpen311Key(ctx, id, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditOpen311Revoke, objectType: AuditObjectOpen311Key, objectID: id,
			summary: "吊销密钥", before: map[string]any{"revoked": false}, after: map[string]any{"revoked": true}})
	})
	return storeErr(err, "密钥")
}

func open311Hash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// Open311ReportInput is a service request as a client files it.
type Open311ReportInput struct {
	APIKey       string
	ServiceCode  string
	MerchantCode string   // attribute[merchant_code]: the code on the plaque
	Jurisdiction string   // jurisdiction_id: a county's code
	Lat, Long    *float64 // else the location, resolved to the nearest shop within Open311Radius
	Description  string
	Phone        string
	Client       string
}

// Open311Radius is how far from a request's location its shop may be.
const Open311Radius = 50.0 // metres

// Open311Report files a service request as a case (source open311): on the
// shop of its merchant code, else on the nearest active shop within
// Open311Radius of its location (of the jurisdiction's county when given),
// else in the jurisdiction's queue. Errors: CodeUnauthorized (no or a bad or
// revoked api key), CodeInvalid (service code, location, description, phone).
func (s *Service) Open311Report(ctx context.Context, in Open311ReportInput) (CaseReceipt, error) {
	if strings.TrimSpace(in.APIKey) == "" {
		return CaseReceipt{}, Errorf(CodeUnauthorized, "api_key is required")
	}
	k, err := s.db.Open311KeyByHash(ctx, open311Hash(strings.TrimSpace(in.APIKey)))
	if err != nil || k.RevokedAt != nil {
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return CaseReceipt{}, err
		}
		return CaseReceipt{}, Errorf(CodeUnauthorized, "invalid api_key")
	}
	f := fieldErrors{}
	rule, ok := s.reportable(in.ServiceCode)
	if !ok {
		f.add("service_code", "unknown service_code "+in.ServiceCode)
	}
	note := f.lines("description", in.Description, rule == models.CaseOther, MaxCaseNote)
	phone := strings.TrimSpace(in.Phone)
	if phone != "" && !mobileRe.MatchString(phone) {
		f.add("phone", "phone must be a mainland mobile number")
	}
	if (in.Lat == nil) != (in.Long == nil) || in.Lat != nil && (*in.Lat < -90 || *in.Lat > 90 || *in.Long < -180 || *in.Long > 180) {
		f.add("lat", "lat and long must be given together, in degrees")
	}
	if in.MerchantCode == "" && in.Lat == nil {
		f.add("lat", "a location is required: lat and long, or the merchant_code attribute")
	}
	if err := f.err(); err != nil {
		return CaseReceipt{}, err
	}
	var county models.County
	if in.Jurisdiction != "" {
		if county, err = s.db.CountyByCode(ctx, in.Jurisdiction); err != nil {
			if errors.Is(err, models.ErrNotFound) {
				return CaseReceipt{}, Invalid(map[string]string{"jurisdiction_id": "unknown jurisdiction_id " + in.Jurisdiction})
			}
			return CaseReceipt{}, err
		}
	}
	filing := caseFiling{countyID: county.ID, rule: rule, note: note, phone: phone, client: in.Client, device: "open311:" + k.Name,
		source: models.CaseFromOpen311}
	switch {
	case in.MerchantCode != "":
		m, err := s.db.MerchantByCode(ctx, strings.ToUpper(strings.TrimSpace(in.MerchantCode)))
		if err != nil || m.Status != models.MerchantActive || county.ID != 0 && m.CountyID != county.ID {
			if err != nil && !errors.Is(err, models.ErrNotFound) {
				return CaseReceipt{}, err
			}
			return CaseReceipt{}, Invalid(map[string]string{"attribute[merchant_code]": "no active shop has this code"})
		}
		filing.countyID, filing.merchantID, filing.roadID = m.CountyID, m.ID, m.RoadID
	default:
		m, found, err := s.nearestShop(ctx, county.ID, *in.Lat, *in.Long)
		if err != nil {
			return CaseReceipt{}, err
		}
		switch {
		case found:
			filing.countyID, filing.merchantID, filing.roadID = m.CountyID, m.ID, m.RoadID
		case county.ID == 0:
			return CaseReceipt{}, Invalid(map[string]string{"jurisdiction_id": "no shop within 50 m: give jurisdiction_id (the county's code) to file it in the county's queue"})
		}
	}
	return s.fileCase(ctx, filing)
}

// nearestShop is the active shop (of county, unless 0) nearest to lat, lng
// within Open311Radius.
func (s *Service) nearestShop(ctx context.Context, countyID int64, lat, lng float64) (models.NearbyMerchant, bool, error) {
	const metresPerDegree = 111_320.0
	dLat := Open311Radius / metresPerDegree
	dLng := Open311Radius / (metresPerDegree * math.Max(math.Cos(lat*math.Pi/180), 0.01))
	ms, err := s.db.ActiveMerchantsInBox(ctx, countyID, lat-dLat, lat+dLat, lng-dLng, lng+dLng)
	if err != nil {
		return models.NearbyMerchant{}, false, err
	}
	best, bestD := models.NearbyMerchant{}, math.Inf(1)
	for _, m := range ms {
		if d := haversine(lat, lng, m.Lat, m.Lng); d <= Open311Radius && (d < bestD || d == bestD && m.ID < best.ID) {
			best, bestD = m, d
		}
	}
	return best, !math.IsInf(bestD, 1), nil
}

// haversine is the distance in metres between two points.
func haversine(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6_371_000.0
	rad := math.Pi / 180
	dLat, dLng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
