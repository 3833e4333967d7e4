package service

import (
	"context"
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
