package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Citizen reports (随手拍) and their cases, after GB/T 30428.8, simplified:
//
//	received → accepted | dismissed          (county admin)
//	accepted | returned → dispatched         (county admin; deadline = now + the item's case_hours)
//	dispatched → handled                     (the officer dispatched to, or a county admin)
//	dispatched → returned                    (the officer dispatched to, or a county admin; reason required)
//	dispatched → dispatched, later deadline  (extension, county admin)
//	handled → verified → closed              (county admin)
//	closed → accepted                        (the reporter, by receipt, once, within case_reopen_days)
//
// The city admin reads every county's cases but acts on none: the county
// office owns its cases. Every transition writes a case event; those of a
// county admin are also in the audit log.

// Audit kind and object type of case transitions.
const (
	AuditCaseTransition = "case.transition"
	AuditObjectCase     = "case"
)

// receiptAlphabet has no look-alikes (no 0/O, 1/I/L): receipts are read
// out and typed from a phone screen.
const receiptAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// ReceiptLength is the length of a case's public receipt.
const ReceiptLength = 10

// newReceipt returns a random receipt (31^10 ≈ 8·10^14 codes).
func newReceipt() (string, error) {
	b := make([]byte, ReceiptLength)
	out := make([]byte, 0, ReceiptLength)
	for len(out) < ReceiptLength {
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		for _, c := range b {
			// 248 = 8·31: rejecting the bytes above keeps every character equally likely.
			if c < 248 && len(out) < ReceiptLength {
				out = append(out, receiptAlphabet[int(c)%len(receiptAlphabet)])
			}
		}
	}
	return string(out), nil
}

// ValidReceipt reports whether s has a receipt's shape.
func ValidReceipt(s string) bool {
	if len(s) != ReceiptLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(receiptAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// CaseReportInput is a citizen's report through a shop's plaque.
type CaseReportInput struct {
	Token    string // the plaque's token
	RuleCode string // a deduction item's code, or models.CaseOther (其他)
	Note     string
	// Photo is the report's optional photo (nil: none), checked like an
	// officer's (checkPhoto) and seen only by the county office, and by the
	// merchant once the case's handling makes it evidence of an inspection.
	Photo  io.Reader
	Phone  string // optional; a mainland mobile number, for the county office only
	Client string // the client's address, stored hashed
	Device string // the device cookie's value, stored hashed
}

// CaseReceipt answers a report.
type CaseReceipt struct {
	Receipt string
	Joined  bool // the report joined an open case of the same shop and item
}

// MaxCaseNote bounds a report's note and the office's notes, like an inspection's.
const MaxCaseNote = 500

// hashed keys a client address or device cookie, so the stored value groups
// reports without revealing the address.
func (s *Service) hashed(kind, v string) string {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(kind + "\x00" + v))
	return hex.EncodeToString(m.Sum(nil))
}

// reportable returns the normalized code of a reportable item: a deduction
// item of the catalogue, or models.CaseOther.
func (s *Service) reportable(code string) (string, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == models.CaseOther {
		return code, true
	}
	it, ok := s.policy.Item(code)
	if !ok || it.Kind != policy.Deduction {
		return "", false
	}
	return it.Code, true
}

// caseItemName is the name of a case's item, 其他 for models.CaseOther.
func (s *Service) caseItemName(code string) string {
	if it, ok := s.policy.Item(code); ok {
		return it.Name
	}
	return "其他"
}

// ReportCase takes a citizen's report through a plaque (no login). A report
// on the shop and item of an open case joins that case (counted; the first
// report stays the case's, and the first photo the case's photo); else it
// opens a new case, received. The photo is kept without its metadata (who,
// where, with what); its file is written only once every check passed, and
// its row with the report's. Errors: CodeNotFound (a forged plaque or a
// closed shop; a replaced plaque wraps ErrPlaqueReplaced), CodeInvalid,
// CodeTooLarge (the photo).
func (s *Service) ReportCase(ctx context.Context, in CaseReportInput) (CaseReceipt, error) {
	code, gen, err := s.plaques.Parse(in.Token)
	if err != nil {
		return CaseReceipt{}, errNotFound
	}
	f := fieldErrors{}
	rule, ok := s.reportable(in.RuleCode)
	if !ok {
		f.add("rule_code", "请选择问题类型")
	}
	note := f.lines("note", in.Note, rule == models.CaseOther, MaxCaseNote)
	phone := strings.TrimSpace(in.Phone)
	if phone != "" && !mobileRe.MatchString(phone) {
		f.add("phone", "请填写 11 位手机号码")
	}
	if err := f.err(); err != nil {
		return CaseReceipt{}, err
	}
	var photo *checkedPhoto
	if in.Photo != nil {
		ph, err := checkPhoto(ctx, in.Photo, "photo")
		if err == nil {
			ph, err = ph.withoutMetadata("photo")
		}
		if err != nil {
			return CaseReceipt{}, err
		}
		photo = &ph
	}
	m, err := s.db.MerchantByCode(ctx, code)
	if err != nil {
		return CaseReceipt{}, storeErr(err, "商户")
	}
	if m.Status != "active" {
		return CaseReceipt{}, errNotFound
	}
	if m.QRGeneration != gen {
		return CaseReceipt{}, errOldPlaque
	}
	filing := caseFiling{countyID: m.CountyID, merchantID: m.ID, roadID: m.RoadID, rule: rule, note: note,
		phone: phone, client: in.Client, device: in.Device, source: models.CaseFromPlaque}
	if photo != nil {
		if err := s.putPhoto(ctx, *photo); err != nil {
			return CaseReceipt{}, err
		}
		row := photo.row(m.CountyID, nil, models.PhotoFromCitizen)
		filing.photo = &row
	}
	return s.fileCase(ctx, filing)
}

// caseFiling is a checked report to file: on a shop (merchantID), or in the
// county's queue (merchantID 0).
type caseFiling struct {
	countyID, merchantID, roadID int64
	rule, note, phone            string
	photo                        *models.Photo // a citizen's, stored with the report
	client, device, source       string
}

// fileCase files a checked report: it joins the open case of the shop and
// item, or opens a case (a report without a shop always opens its own).
func (s *Service) fileCase(ctx context.Context, in caseFiling) (CaseReceipt, error) {
	now := s.now().Truncate(time.Millisecond)
	if in.photo != nil {
		in.photo.CreatedAt = now
	}
	report := models.CaseReport{Phone: in.phone, Note: in.note, NewPhoto: in.photo,
		Client: s.hashed("client", in.client), Device: s.hashed("device", in.device), ReportedAt: now}
	// Join the open case, or open one; a case opened or closed meanwhile by
	// another report is seen through uq_cases_open_key and the join's guard.
	for attempt := 0; attempt < 5; attempt++ {
		var key *string
		if in.merchantID != 0 {
			open, err := s.db.OpenCaseOf(ctx, in.merchantID, in.rule)
			switch {
			case err == nil:
				r := report
				err := s.db.JoinCase(ctx, open.ID, &r)
				if err == nil {
					return CaseReceipt{Receipt: open.Receipt, Joined: true}, nil
				}
				if !errors.Is(err, models.ErrNotFound) {
					return CaseReceipt{}, err
				}
				continue
			case !errors.Is(err, models.ErrNotFound):
				return CaseReceipt{}, err
			}
			k := models.CaseOpenKey(in.merchantID, in.rule)
			key = &k
		}
		receipt, err := newReceipt()
		if err != nil {
			return CaseReceipt{}, err
		}
		c := models.Case{Receipt: receipt, CountyID: in.countyID, RuleCode: in.rule, Status: models.CaseReceived, Source: in.source,
			Note: in.note, Reports: 1, ReceivedAt: now, UpdatedAt: now, OpenKey: key}
		if in.merchantID != 0 {
			merchant, road := in.merchantID, in.roadID
			c.MerchantID, c.RoadID = &merchant, &road
		}
		r := report
		e := models.CaseEvent{Action: "report", ToStatus: models.CaseReceived, At: now}
		err = s.db.CreateCase(ctx, &c, &r, &e)
		switch {
		case err == nil:
			return CaseReceipt{Receipt: receipt}, nil
		case models.IsDuplicateOf(err, "uq_cases_open_key"), models.IsDuplicateOf(err, "uq_cases_receipt"):
			continue
		default:
			return CaseReceipt{}, err
		}
	}
	return CaseReceipt{}, Errorf(CodeUnavailable, "系统繁忙，请稍后再试")
}

// PublicCaseView is what the public follow-up page shows: states and dates,
// the item and the shop. Never the reporter's phone, the notes, or who handled it.
type PublicCaseView struct {
	Receipt      string
	Status       string
	ItemName     string
	ShopName     string
	RoadName     string
	ReceivedAt   time.Time
	AcceptedAt   *time.Time
	DispatchedAt *time.Time
	HandledAt    *time.Time
	ClosedAt     *time.Time
	DueAt        *time.Time
	OnTime       *bool
	Reopened     bool
	// CanReopen: the reporter may still mark it unresolved (ReopenCase).
	CanReopen bool
	Steps     []PublicCaseStep
}

// PublicCaseStep is one transition, without who or why.
type PublicCaseStep struct {
	Action string
	Status string
	At     time.Time
}

// PublicCase returns the public view of the case with receipt; an unknown or
// malformed receipt is CodeNotFound.
func (s *Service) PublicCase(ctx context.Context, receipt string) (PublicCaseView, error) {
	c, err := s.caseByReceipt(ctx, receipt)
	if err != nil {
		return PublicCaseView{}, err
	}
	events, err := s.db.CaseEvents(ctx, c.ID)
	if err != nil {
		return PublicCaseView{}, err
	}
	v := PublicCaseView{Receipt: c.Receipt, Status: c.Status, ItemName: s.caseItemName(c.RuleCode), ReceivedAt: c.ReceivedAt,
		ClosedAt: c.ClosedAt, DueAt: c.DueAt, OnTime: c.OnTime, Reopened: c.Reopened, CanReopen: s.canReopen(c)}
	if c.MerchantID != nil {
		m, err := s.db.MerchantByID(ctx, *c.MerchantID)
		if err != nil {
			return PublicCaseView{}, err
		}
		v.ShopName = m.Name
	}
	if c.RoadID != nil {
		r, err := s.db.RoadByID(ctx, *c.RoadID)
		if err != nil {
			return PublicCaseView{}, err
		}
		v.RoadName = r.Name
	}
	for _, e := range events {
		at := e.At
		switch e.Action {
		case caseAccept, caseReopen:
			v.AcceptedAt = &at
		case caseDispatch:
			v.DispatchedAt = &at
		case caseHandle:
			v.HandledAt = &at
		}
		v.Steps = append(v.Steps, PublicCaseStep{Action: e.Action, Status: e.ToStatus, At: e.At})
	}
	return v, nil
}

func (s *Service) caseByReceipt(ctx context.Context, receipt string) (models.Case, error) {
	receipt = strings.ToUpper(strings.TrimSpace(receipt))
	if !ValidReceipt(receipt) {
		return models.Case{}, errNotFound
	}
	c, err := s.db.CaseByReceipt(ctx, receipt)
	return c, storeErr(err, "案件")
}

// canReopen: closed, never reopened, and within the policy's days of closing.
func (s *Service) canReopen(c models.Case) bool {
	if c.Status != models.CaseClosed || c.Reopened || c.ClosedAt == nil {
		return false
	}
	limit := c.ClosedAt.AddDate(0, 0, s.policy.CaseReopenDays)
	return !s.now().After(limit)
}

// Case event actions.
const (
	caseReport   = "report"
	caseAccept   = "accept"
	caseDismiss  = "dismiss"
	caseDispatch = "dispatch"
	caseHandle   = "handle"
	caseReturn   = "return"
	caseExtend   = "extend"
	caseVerify   = "verify"
	caseClose    = "close"
	caseReopen   = "reopen"
)

// caseActionNames are the actions as the audit log names them.
var caseActionNames = map[string]string{caseAccept: "立案", caseDismiss: "不予立案", caseDispatch: "派遣", caseHandle: "处置",
	caseReturn: "回退", caseExtend: "延期", caseVerify: "核查", caseClose: "结案"}

// caseFor reads a case the actor may see: county users of its county, the
// city admin. Others (and merchants) get CodeNotFound.
func (s *Service) caseFor(ctx context.Context, a Actor, id int64) (models.Case, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return models.Case{}, errNotFound
	}
	c, err := s.db.CaseByID(ctx, id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && !a.InCounty(c.CountyID)) {
		return models.Case{}, errNotFound
	}
	return c, err
}

// countyOffice reads a case for a transition of the county office: a county
// admin of the case's county.
func (s *Service) countyOffice(ctx context.Context, a Actor, id int64) (models.Case, error) {
	c, err := s.caseFor(ctx, a, id)
	if err != nil {
		return c, err
	}
	if a.Role != RoleCountyAdmin {
		return models.Case{}, errForbidden
	}
	return c, nil
}

// wrongStatus refuses a transition from the case's status.
func wrongStatus(c models.Case, action string) error {
	return Errorf(CodeConflict, "案件当前状态（%s）不能%s", CaseStatusName(c.Status), caseActionNames[action])
}

// CaseStatusName is a status in Chinese.
func CaseStatusName(status string) string {
	switch status {
	case models.CaseReceived:
		return "已受理"
	case models.CaseAccepted:
		return "已立案"
	case models.CaseDismissed:
		return "不予立案"
	case models.CaseDispatched:
		return "已派遣"
	case models.CaseReturned:
		return "已回退"
	case models.CaseHandled:
		return "已处置"
	case models.CaseVerified:
		return "已核查"
	case models.CaseClosed:
		return "已结案"
	}
	return status
}

// moveCase writes the transition of c from its status to to, with its event
// and, for a county admin, the audit event, in one transaction; a case that
// moved meanwhile is CodeConflict and nothing is written. It returns the case
// as stored after.
func (s *Service) moveCase(ctx context.Context, a *Actor, c models.Case, action, to, note string, set map[string]any) (models.Case, error) {
	now := s.now().Truncate(time.Millisecond)
	e := models.CaseEvent{Action: action, ToStatus: to, Note: note, At: now}
	if a != nil {
		id := a.UserID
		e.ActorID = &id
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		err := s.db.TransitionCase(ctx, models.CaseTransition{CaseID: c.ID, From: c.Status, Event: e, Set: set})
		if errors.Is(err, models.ErrNotFound) {
			return Errorf(CodeConflict, "案件状态已变化，请刷新后再试")
		}
		if err != nil || a == nil || a.Role != RoleCountyAdmin {
			return err
		}
		county := c.CountyID
		summary := "案件 " + c.Receipt + " " + caseActionNames[action]
		if note != "" {
			summary += "：" + note
		}
		before := map[string]any{"status": c.Status}
		after := map[string]any{"status": to}
		for k, v := range set {
			if k == "open_key" {
				continue
			}
			after[k] = v
		}
		return s.audit(ctx, *a, auditRecord{kind: AuditCaseTransition, objectType: AuditObjectCase, objectID: c.ID,
			countyID: &county, summary: summary, before: before, after: after})
	})
	if err != nil {
		return models.Case{}, err
	}
	out, err := s.db.CaseByID(ctx, c.ID)
	return out, storeErr(err, "案件")
}

// AcceptCase files a received case (立案). County admins of its county.
// Errors: CodeNotFound, CodeForbidden, CodeConflict (not received).
func (s *Service) AcceptCase(ctx context.Context, a Actor, id int64) (models.Case, error) {
	c, err := s.countyOffice(ctx, a, id)
	if err != nil {
		return c, err
	}
	if c.Status != models.CaseReceived {
		return models.Case{}, wrongStatus(c, caseAccept)
	}
	return s.moveCase(ctx, &a, c, caseAccept, models.CaseAccepted, "", nil)
}

// DismissCase declines a received case (不予立案) with a reason; it leaves the
// shop's open cases, so a later report opens a new one. County admins.
func (s *Service) DismissCase(ctx context.Context, a Actor, id int64, reason string) (models.Case, error) {
	c, err := s.countyOffice(ctx, a, id)
	if err != nil {
		return c, err
	}
	f := fieldErrors{}
	reason = f.lines("reason", reason, true, MaxCaseNote)
	if err := f.err(); err != nil {
		return models.Case{}, err
	}
	if c.Status != models.CaseReceived {
		return models.Case{}, wrongStatus(c, caseDismiss)
	}
	return s.moveCase(ctx, &a, c, caseDismiss, models.CaseDismissed, reason, map[string]any{"open_key": nil})
}

// DispatchCase sends an accepted or returned case to an officer of its
// county (派遣) with the deadline now + the item's case_hours. officerID 0
// picks the road's responsible officer (定人定责, the lowest id when the road
// has several); a road with none leaves the case in the county's queue
// (officer nil), which the county admins handle. County admins.
func (s *Service) DispatchCase(ctx context.Context, a Actor, id, officerID int64) (models.Case, error) {
	c, err := s.countyOffice(ctx, a, id)
	if err != nil {
		return c, err
	}
	if c.Status != models.CaseAccepted && c.Status != models.CaseReturned {
		return models.Case{}, wrongStatus(c, caseDispatch)
	}
	var officer *int64
	switch {
	case officerID != 0:
		u, err := s.db.UserByID(ctx, officerID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return models.Case{}, err
		}
		if err != nil || u.Role != RoleOfficer || u.Disabled || u.CountyID == nil || *u.CountyID != c.CountyID {
			return models.Case{}, Invalid(map[string]string{"officer_id": "应为本区县在岗的执法人员"})
		}
		officer = &u.ID
	case c.RoadID != nil:
		ids, err := s.db.RoadOfficers(ctx, []int64{*c.RoadID})
		if err != nil {
			return models.Case{}, err
		}
		for _, uid := range ids[*c.RoadID] {
			u, err := s.db.UserByID(ctx, uid)
			if err == nil && !u.Disabled && u.Role == RoleOfficer {
				officer = &u.ID
				break
			}
		}
	}
	due := s.now().Truncate(time.Millisecond).Add(time.Duration(s.policy.CaseHours(c.RuleCode)) * time.Hour)
	return s.moveCase(ctx, &a, c, caseDispatch, models.CaseDispatched, "",
		map[string]any{"officer_id": officer, "due_at": due})
}

// CaseHandling is how a dispatched case was dealt with (处置).
type CaseHandling struct {
	Outcome      string // models.OutcomeInspection, OutcomeNotice or OutcomeNothing
	InspectionID int64  // the shop's inspection, recorded since the case was received
	NoticeID     int64  // the shop's rectification notice, issued since the case was received
	Note         string // required for OutcomeNothing
	// AttachPhoto adds the case's photo (a citizen's) to the inspection's
	// evidence; OutcomeInspection only.
	AttachPhoto bool
}

// mayWork reports whether a is the officer c was dispatched to, or a county
// admin of c's county (caseFor checked the county).
func mayWork(a Actor, c models.Case) bool {
	return a.Role == RoleCountyAdmin || (a.Role == RoleOfficer && c.OfficerID != nil && *c.OfficerID == a.UserID)
}

// HandleCase records how a dispatched case was dealt with: an inspection or
// a notice of the case's shop made since the case was received, or nothing
// found (with a note). With an inspection, the case's photo may become that
// inspection's evidence (AttachPhoto), in the same transaction: the merchant
// then sees it with the inspection, marked as a citizen's, and nothing of
// the reporter. The officer it was dispatched to, or a county admin.
func (s *Service) HandleCase(ctx context.Context, a Actor, id int64, in CaseHandling) (models.Case, error) {
	c, err := s.caseFor(ctx, a, id)
	if err != nil {
		return c, err
	}
	if !mayWork(a, c) {
		return models.Case{}, errForbidden
	}
	f := fieldErrors{}
	note := f.lines("note", in.Note, in.Outcome == models.OutcomeNothing, MaxCaseNote)
	set := map[string]any{"outcome": in.Outcome}
	var insp models.Inspection
	switch in.Outcome {
	case models.OutcomeInspection:
		insp, err = s.db.InspectionByID(ctx, in.InspectionID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return models.Case{}, err
		}
		if err != nil || c.MerchantID == nil || insp.MerchantID != *c.MerchantID || insp.InspectedAt.Before(c.ReceivedAt) {
			f.add("inspection_id", "应为本案商户在受理之后的检查记录")
		}
		set["inspection_id"] = insp.ID
	case models.OutcomeNotice:
		n, err := s.db.NoticeByID(ctx, in.NoticeID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return models.Case{}, err
		}
		if err != nil || c.MerchantID == nil || n.MerchantID != *c.MerchantID || n.IssuedAt.Before(c.ReceivedAt) {
			f.add("notice_id", "应为本案商户在受理之后的整改通知")
		}
		set["notice_id"] = n.ID
	case models.OutcomeNothing:
	default:
		f.add("outcome", "应为检查、整改通知或未发现问题")
	}
	if in.AttachPhoto && in.Outcome != models.OutcomeInspection {
		f.add("attach_photo", "举报照片只能作为检查记录的证据")
	} else if in.AttachPhoto && c.PhotoID == nil {
		f.add("attach_photo", "本案没有举报照片")
	}
	if err := f.err(); err != nil {
		return models.Case{}, err
	}
	if c.Status != models.CaseDispatched {
		return models.Case{}, wrongStatus(c, caseHandle)
	}
	if !in.AttachPhoto {
		return s.moveCase(ctx, &a, c, caseHandle, models.CaseHandled, note, set)
	}
	note = strings.TrimSpace(note + " " + caseEvidenceNote)
	var out models.Case
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		ids := parseIDs(insp.PhotoIDs)
		if !slices.Contains(ids, *c.PhotoID) {
			err := s.db.SetInspectionPhotos(ctx, insp.ID, insp.PhotoIDs, formatIDs(append(ids, *c.PhotoID)))
			if errors.Is(err, models.ErrNotFound) {
				return Errorf(CodeConflict, "检查记录的照片已变化，请刷新后再试")
			}
			if err != nil {
				return err
			}
		}
		out, err = s.moveCase(ctx, &a, c, caseHandle, models.CaseHandled, note, set)
		return err
	})
	return out, err
}

// caseEvidenceNote ends the note of a handling that made the case's photo
// evidence of the inspection.
const caseEvidenceNote = "（举报照片已作为检查记录的证据）"

// ReturnCase sends a dispatched case back to the county for a new dispatch
// (回退), with a reason: the officer it was dispatched to, or a county admin.
func (s *Service) ReturnCase(ctx context.Context, a Actor, id int64, reason string) (models.Case, error) {
	c, err := s.caseFor(ctx, a, id)
	if err != nil {
		return c, err
	}
	if !mayWork(a, c) {
		return models.Case{}, errForbidden
	}
	f := fieldErrors{}
	reason = f.lines("reason", reason, true, MaxCaseNote)
	if err := f.err(); err != nil {
		return models.Case{}, err
	}
	if c.Status != models.CaseDispatched {
		return models.Case{}, wrongStatus(c, caseReturn)
	}
	return s.moveCase(ctx, &a, c, caseReturn, models.CaseReturned, reason, map[string]any{"officer_id": nil, "due_at": nil})
}

// ExtendCase moves a dispatched case's deadline later (延期), approved by a
// county admin; the case stays dispatched and is marked extended.
func (s *Service) ExtendCase(ctx context.Context, a Actor, id int64, dueAt time.Time, reason string) (models.Case, error) {
	c, err := s.countyOffice(ctx, a, id)
	if err != nil {
		return c, err
	}
	f := fieldErrors{}
	reason = f.lines("reason", reason, true, MaxCaseNote)
	dueAt = dueAt.UTC().Truncate(time.Millisecond)
	if c.DueAt != nil && !dueAt.After(*c.DueAt) {
		f.add("due_at", "新的期限应晚于原期限")
	} else if dueAt.After(s.now().Add(policy.MaxCaseHours * time.Hour)) {
		f.add("due_at", "期限过远")
	}
	if err := f.err(); err != nil {
		return models.Case{}, err
	}
	if c.Status != models.CaseDispatched {
		return models.Case{}, wrongStatus(c, caseExtend)
	}
	return s.moveCase(ctx, &a, c, caseExtend, models.CaseDispatched, reason, map[string]any{"due_at": dueAt, "extended": true})
}

// VerifyCase confirms a handled case (核查). County admins.
func (s *Service) VerifyCase(ctx context.Context, a Actor, id int64) (models.Case, error) {
	c, err := s.countyOffice(ctx, a, id)
	if err != nil {
		return c, err
	}
	if c.Status != models.CaseHandled {
		return models.Case{}, wrongStatus(c, caseVerify)
	}
	return s.moveCase(ctx, &a, c, caseVerify, models.CaseVerified, "", nil)
}

// CloseCase closes a verified case (结案): on time when closed by its
// deadline. County admins.
func (s *Service) CloseCase(ctx context.Context, a Actor, id int64) (models.Case, error) {
	c, err := s.countyOffice(ctx, a, id)
	if err != nil {
		return c, err
	}
	if c.Status != models.CaseVerified {
		return models.Case{}, wrongStatus(c, caseClose)
	}
	now := s.now().Truncate(time.Millisecond)
	onTime := c.DueAt != nil && !now.After(*c.DueAt)
	return s.moveCase(ctx, &a, c, caseClose, models.CaseClosed, "",
		map[string]any{"closed_at": now, "on_time": onTime, "open_key": nil})
}

// ReopenCase is the reporter's "没有解决" (回访): a closed case, once, within
// the policy's case_reopen_days of closing, goes back to accepted for a new
// dispatch. Public, by receipt. Errors: CodeNotFound, CodeConflict.
func (s *Service) ReopenCase(ctx context.Context, receipt string) (PublicCaseView, error) {
	c, err := s.caseByReceipt(ctx, receipt)
	if err != nil {
		return PublicCaseView{}, err
	}
	switch {
	case c.Status != models.CaseClosed:
		return PublicCaseView{}, Errorf(CodeConflict, "案件尚未结案")
	case c.Reopened:
		return PublicCaseView{}, Errorf(CodeConflict, "该案件已重新办理过一次")
	case !s.canReopen(c):
		return PublicCaseView{}, Errorf(CodeConflict, "已超过结案后 %d 天，不能再标记为未解决", s.policy.CaseReopenDays)
	}
	set := map[string]any{"reopened": true, "officer_id": nil, "due_at": nil, "extended": false, "closed_at": nil,
		"on_time": nil, "outcome": "", "inspection_id": nil, "notice_id": nil}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		// The case is open again; a newer open case of the shop and item (opened
		// since it closed) keeps the later reports.
		if c.MerchantID != nil {
			_, err := s.db.OpenCaseOf(ctx, *c.MerchantID, c.RuleCode)
			switch {
			case errors.Is(err, models.ErrNotFound):
				set["open_key"] = models.CaseOpenKey(*c.MerchantID, c.RuleCode)
			case err != nil:
				return err
			}
		}
		_, err := s.moveCase(ctx, nil, c, caseReopen, models.CaseAccepted, "", set)
		return err
	})
	if err != nil {
		return PublicCaseView{}, err
	}
	return s.PublicCase(ctx, c.Receipt)
}

// CaseView is a case as the county office sees it in lists.
type CaseView struct {
	models.Case
	ItemName     string
	MerchantCode string
	MerchantName string
	RoadName     string
	Overdue      bool
}

func (s *Service) caseViews(lines []models.CaseLine) []CaseView {
	now := s.now()
	out := make([]CaseView, len(lines))
	for i, l := range lines {
		open := l.Status != models.CaseClosed && l.Status != models.CaseDismissed
		out[i] = CaseView{Case: l.Case, ItemName: s.caseItemName(l.RuleCode), MerchantCode: l.MerchantCode,
			MerchantName: l.MerchantName, RoadName: l.RoadName, Overdue: open && l.DueAt != nil && l.DueAt.Before(now)}
	}
	return out
}

// CaseFilter selects a county's cases (the triage queue).
type CaseFilter struct {
	CountyID int64    // 0: the caller's county (every county for the city admin)
	Statuses []string // none: every status
	Paging
}

// CountyCases lists cases by status, the most urgent first, with the total:
// county users of their county, the city admin of any.
func (s *Service) CountyCases(ctx context.Context, a Actor, f CaseFilter) ([]CaseView, int64, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return nil, 0, errForbidden
	}
	p, err := f.Paging.check()
	if err != nil {
		return nil, 0, err
	}
	counties, _, err := a.listScope(f.CountyID)
	if err != nil {
		return nil, 0, err
	}
	for _, st := range f.Statuses {
		if CaseStatusName(st) == st {
			return nil, 0, Invalid(map[string]string{"status": "未知的状态 " + st})
		}
	}
	lines, total, err := s.db.ListCases(ctx, models.CaseFilter{CountyIDs: counties, Statuses: f.Statuses, Limit: p.Limit, Offset: p.Offset})
	if err != nil {
		return nil, 0, err
	}
	return s.caseViews(lines), total, nil
}

// OfficerCases lists the cases dispatched to the calling officer, due first.
func (s *Service) OfficerCases(ctx context.Context, a Actor, p Paging) ([]CaseView, int64, error) {
	if a.Role != RoleOfficer {
		return nil, 0, errForbidden
	}
	p, err := p.check()
	if err != nil {
		return nil, 0, err
	}
	lines, total, err := s.db.ListCases(ctx, models.CaseFilter{CountyIDs: []int64{a.CountyID},
		Statuses: []string{models.CaseDispatched}, OfficerID: a.UserID, Limit: p.Limit, Offset: p.Offset})
	if err != nil {
		return nil, 0, err
	}
	return s.caseViews(lines), total, nil
}

// CaseDetail is a case with its reports (the phones included: the county
// office only) and its events.
type CaseDetail struct {
	CaseView
	Reports []models.CaseReport
	Events  []models.CaseEvent
	// PhotoEvidence: the case's photo is evidence of the inspection it was
	// handled with (so the merchant sees it there).
	PhotoEvidence bool
}

// Case returns one case for the county office: county admins and officers
// of its county, the city admin.
func (s *Service) Case(ctx context.Context, a Actor, id int64) (CaseDetail, error) {
	c, err := s.caseFor(ctx, a, id)
	if err != nil {
		return CaseDetail{}, err
	}
	lines, _, err := s.db.ListCases(ctx, models.CaseFilter{CountyIDs: []int64{c.CountyID}, Limit: 1, Offset: 0, ID: c.ID})
	if err != nil {
		return CaseDetail{}, err
	}
	if len(lines) == 0 {
		return CaseDetail{}, errNotFound
	}
	d := CaseDetail{CaseView: s.caseViews(lines)[0]}
	if d.Reports, err = s.db.CaseReports(ctx, id); err != nil {
		return CaseDetail{}, err
	}
	if d.Events, err = s.db.CaseEvents(ctx, id); err != nil {
		return CaseDetail{}, err
	}
	if d.PhotoID != nil && d.InspectionID != nil {
		in, err := s.db.InspectionByID(ctx, *d.InspectionID)
		if err != nil {
			return CaseDetail{}, err
		}
		d.PhotoEvidence = slices.Contains(parseIDs(in.PhotoIDs), *d.PhotoID)
	}
	return d, nil
}

// CaseStatLine is the cases of one county, or of one officer (OfficerID 0:
// the county's queue), over a time range.
type CaseStatLine struct {
	CountyID     int64
	OfficerID    int64
	Received     int // received within the range
	Open         int // open now
	Overdue      int // open now and past the deadline
	Closed       int // closed within the range
	ClosedOnTime int
	// OnTimeRate is ClosedOnTime / Closed; nil when nothing closed.
	OnTimeRate *float64
}

func (l *CaseStatLine) add(n models.CaseCount) {
	l.Received += n.Received
	l.Open += n.Open
	l.Overdue += n.Overdue
	l.Closed += n.Closed
	l.ClosedOnTime += n.ClosedOnTime
	l.OnTimeRate = nil
	if l.Closed > 0 {
		r := float64(l.ClosedOnTime) / float64(l.Closed)
		l.OnTimeRate = &r
	}
}

// CaseStats are the case counts of a time range, per county and per officer.
type CaseStats struct {
	Counties []CaseStatLine // OfficerID 0
	Officers []CaseStatLine
}

// CaseStats counts the cases of countyID (0: the caller's county; every
// county for the city admin) received and closed within [from, to), and open
// and overdue now.
func (s *Service) CaseStats(ctx context.Context, a Actor, countyID int64, from, to time.Time) (CaseStats, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return CaseStats{}, errForbidden
	}
	if !to.After(from) {
		return CaseStats{}, Invalid(map[string]string{"to": "结束时间应晚于开始时间"})
	}
	counties, _, err := a.listScope(countyID)
	if err != nil {
		return CaseStats{}, err
	}
	counts, err := s.db.CountCases(ctx, counties, from, to, s.now())
	if err != nil {
		return CaseStats{}, err
	}
	var out CaseStats
	for _, n := range counts {
		if k := len(out.Counties); k == 0 || out.Counties[k-1].CountyID != n.CountyID {
			out.Counties = append(out.Counties, CaseStatLine{CountyID: n.CountyID})
		}
		out.Counties[len(out.Counties)-1].add(n)
		line := CaseStatLine{CountyID: n.CountyID, OfficerID: n.OfficerID}
		line.add(n)
		out.Officers = append(out.Officers, line)
	}
	return out, nil
}
