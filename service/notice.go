package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Deadlines of rectification notices (限期整改), in days from issue.
const (
	NoticeDefaultDays = 3
	NoticeMaxDays     = 30
)

// NoticeInput is an officer's rectification notice, as sent.
type NoticeInput struct {
	RuleCode string  `json:"rule_code"`
	Note     string  `json:"note"`
	DueDays  *int    `json:"due_days"`
	Photos   []int64 `json:"photos"`
}

// NoticeView is a notice with whether it is overdue now.
type NoticeView struct {
	models.Notice
	Photos       []int64
	ReportPhotos []int64 // the merchant's photos of the fix
	Overdue      bool
}

// IssueNotice gives a merchant a rectification notice (限期整改通知) instead of,
// or besides, a deduction: what to fix (a catalogue item and/or a note), by
// when, with evidence. Officers and admins of the merchant's county issue;
// while it is overdue the merchant's road cannot qualify as a demonstration road.
func (s *Service) IssueNotice(ctx context.Context, a Actor, merchantID int64, in NoticeInput) (NoticeView, error) {
	if !a.can(RoleOfficer, RoleCountyAdmin, RoleCityAdmin) {
		return NoticeView{}, errForbidden
	}
	m, err := s.Merchant(ctx, a, merchantID)
	if err != nil {
		return NoticeView{}, err
	}
	f := fieldErrors{}
	n := models.Notice{MerchantID: m.ID, CountyID: m.CountyID, Status: models.NoticeOpen, IssuedBy: a.UserID}
	n.Note = f.lines("note", in.Note, false, 500)
	if in.RuleCode != "" {
		if it, ok := s.policy.Item(in.RuleCode); !ok {
			f.add("rule_code", "未知的规则编码 "+strconv.Quote(in.RuleCode))
		} else {
			n.RuleCode = it.Code
		}
	} else if n.Note == "" {
		f.add("note", "请选择整改事项或写明要整改的问题")
	}
	days := NoticeDefaultDays
	if in.DueDays != nil {
		days = *in.DueDays
	}
	if days < 1 || days > NoticeMaxDays {
		f.add("due_days", fmt.Sprintf("整改期限应为 1 到 %d 天", NoticeMaxDays))
	}
	if len(in.Photos) > maxPhotos {
		f.add("photos", fmt.Sprintf("最多 %d 张照片", maxPhotos))
	} else if len(uniqueIDs(in.Photos)) != len(in.Photos) {
		f.add("photos", "照片重复")
	}
	if err := f.err(); err != nil {
		return NoticeView{}, err
	}
	if m.Status != "active" {
		return NoticeView{}, Errorf(CodeConflict, "商户已注销，不能下发整改通知")
	}
	n.PhotoIDs = formatIDs(in.Photos)
	now := s.now().Truncate(time.Millisecond)
	n.IssuedAt, n.DueAt = now, now.Add(time.Duration(days)*24*time.Hour)
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		// The photos are locked before the notice's insert, as the recorder
		// locks them before its merchants (models.LockEvidencePhotos).
		evidence, err := s.db.LockEvidencePhotos(ctx, in.Photos)
		if err != nil {
			return err
		}
		lk := models.RecordLock{Merchant: m}
		lk.CountPhotos(in.Photos, evidence)
		if err := evidenceError(lk, len(in.Photos)); err != nil {
			return err
		}
		bind := map[int64]int64{}
		bindEvidence(evidence, m.ID, in.Photos, bind)
		if err := s.db.BindPhotos(ctx, bind); err != nil {
			return err
		}
		return s.db.CreateNotice(ctx, &n)
	})
	if err != nil {
		return NoticeView{}, err
	}
	return s.noticeView(n, now), nil
}

// Notices lists a merchant's notices, newest first (county users and the merchant).
func (s *Service) Notices(ctx context.Context, a Actor, merchantID int64, p Paging) ([]NoticeView, int64, error) {
	p, err := p.check()
	if err != nil {
		return nil, 0, err
	}
	if _, err := s.Merchant(ctx, a, merchantID); err != nil {
		return nil, 0, err
	}
	ns, total, err := s.db.NoticesOf(ctx, merchantID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	now := s.now()
	out := make([]NoticeView, len(ns))
	for i, n := range ns {
		out[i] = s.noticeView(n, now)
	}
	return out, total, nil
}

// RectifyNotice confirms at re-inspection (复查) that a notice's problem is
// fixed (officers and admins of its county). A notice already confirmed is
// CodeConflict.
func (s *Service) RectifyNotice(ctx context.Context, a Actor, id int64, note string) (NoticeView, error) {
	if !a.can(RoleOfficer, RoleCountyAdmin, RoleCityAdmin) {
		return NoticeView{}, errForbidden
	}
	f := fieldErrors{}
	note = f.lines("note", note, false, 500)
	if err := f.err(); err != nil {
		return NoticeView{}, err
	}
	n, err := s.db.NoticeByID(ctx, id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && !a.InCounty(n.CountyID)) {
		return NoticeView{}, errNotFound
	}
	if err != nil {
		return NoticeView{}, err
	}
	now := s.now().Truncate(time.Millisecond)
	return s.noticeAfter(ctx, id, now, s.db.ResolveNotice(ctx, id, a.UserID, now, note))
}

// ReportNoticeFixed is the merchant's "已整改": it fixed what an open notice
// asked, with a note and up to MaxMerchantPhotos photos of its own. It moves
// no points and closes nothing: an officer confirms it at re-inspection
// (RectifyNotice). A later report replaces an earlier one. Errors:
// CodeForbidden (not a merchant), CodeNotFound (not its notice), CodeInvalid,
// CodeConflict (confirmed already).
func (s *Service) ReportNoticeFixed(ctx context.Context, a Actor, id int64, note string, photos []int64) (NoticeView, error) {
	if a.Role != RoleMerchant {
		return NoticeView{}, errForbidden
	}
	n, err := s.db.NoticeByID(ctx, id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && n.MerchantID != a.MerchantID) {
		return NoticeView{}, errNotFound
	}
	if err != nil {
		return NoticeView{}, err
	}
	f := fieldErrors{}
	note = f.lines("note", note, false, 500)
	if len(photos) == 0 {
		f.add("photos", "请上传整改后的门前照片")
	}
	if err := f.err(); err != nil {
		return NoticeView{}, err
	}
	ids, err := s.ownPhotos(ctx, a, "photos", photos)
	if err != nil {
		return NoticeView{}, err
	}
	now := s.now().Truncate(time.Millisecond)
	return s.noticeAfter(ctx, id, now, s.db.ReportNoticeFixed(ctx, id, now, note, ids))
}

// noticeAfter is notice id as it stands after a change to an open notice
// that ended in err: models.ErrNotFound (it was no longer open) is
// CodeConflict.
func (s *Service) noticeAfter(ctx context.Context, id int64, now time.Time, err error) (NoticeView, error) {
	switch {
	case errors.Is(err, models.ErrNotFound):
		return NoticeView{}, Errorf(CodeConflict, "该整改通知已确认整改")
	case err != nil:
		return NoticeView{}, err
	}
	n, err := s.db.NoticeByID(ctx, id)
	return s.noticeView(n, now), err
}

func (s *Service) noticeView(n models.Notice, now time.Time) NoticeView {
	return NoticeView{Notice: n, Photos: parseIDs(n.PhotoIDs), ReportPhotos: parseIDs(n.ReportPhotoIDs), Overdue: n.Status == models.NoticeOpen && now.After(n.DueAt)}
}

// overdueNotices counts, per merchant of the county, the notices that were
// overdue at some moment of cycle c up to now: the deadline passed within or
// before the cycle while the problem was not yet confirmed fixed.
func (s *Service) overdueNotices(ctx context.Context, countyID int64, c policy.Cycle, now time.Time) (map[int64]int, error) {
	start, end := s.policy.CycleStart(c), s.policy.CycleStart(c.Next())
	if now.Before(end) {
		end = now
	}
	ns, err := s.db.NoticesDueBefore(ctx, countyID, start, end)
	if err != nil {
		return nil, err
	}
	out := map[int64]int{}
	for _, n := range ns {
		// Overdue during [start, end): some moment t there with t > due and not yet resolved at t.
		from := n.DueAt
		if from.Before(start) {
			from = start
		}
		if n.ResolvedAt == nil || n.ResolvedAt.After(from) {
			out[n.MerchantID]++
		}
	}
	return out, nil
}

// NoticeFilter asks for a worklist of notices.
type NoticeFilter struct {
	CountyID int64  // 0: every county the caller sees
	RoadID   int64  // 0: any road
	Status   string // open (default), overdue, rectified or all
	Paging
}

// NoticeLineView is a notice of a worklist, with its shop.
type NoticeLineView struct {
	NoticeView
	MerchantCode, MerchantName string
	RoadID                     int64
	RoadName                   string
}

// Notice worklist states.
const (
	NoticesOpen      = "open"
	NoticesOverdue   = "overdue"
	NoticesRectified = "rectified"
	NoticesAll       = "all"
)

// NoticeList is the re-inspection worklist (复查): the open notices of the
// caller's county (every county, or one, for the city admin), the most urgent
// first, or only the overdue ones, or the rectified ones, optionally of one
// road. A merchant gets its own.
func (s *Service) NoticeList(ctx context.Context, a Actor, f NoticeFilter) ([]NoticeLineView, int64, error) {
	p, err := f.Paging.check()
	if err != nil {
		return nil, 0, err
	}
	q := models.NoticeFilter{Limit: p.Limit, Offset: p.Offset}
	now := s.now()
	switch f.Status {
	case "", NoticesOpen:
		q.Status = models.NoticeOpen
	case NoticesOverdue:
		q.Status, q.DueBefore = models.NoticeOpen, &now
	case NoticesRectified:
		q.Status = models.NoticeRectified
	case NoticesAll:
	default:
		return nil, 0, Invalid(map[string]string{"status": "应为 open、overdue、rectified 或 all"})
	}
	q.CountyIDs, q.MerchantID, err = a.listScope(f.CountyID)
	if err != nil {
		return nil, 0, err
	}
	if f.RoadID != 0 {
		county, err := s.countyOf(ctx, "road", f.RoadID)
		if err != nil {
			return nil, 0, err
		}
		if !a.InCounty(county) {
			return nil, 0, errNotFound
		}
		q.RoadID = f.RoadID
	}
	ns, total, err := s.db.ListNotices(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	out := make([]NoticeLineView, len(ns))
	for i, n := range ns {
		out[i] = NoticeLineView{NoticeView: s.noticeView(n.Notice, now), MerchantCode: n.MerchantCode, MerchantName: n.MerchantName,
			RoadID: n.RoadID, RoadName: n.RoadName}
	}
	return out, total, nil
}
