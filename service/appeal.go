package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// AppealWindow is how long after a deduction is recorded the merchant may
// appeal it: five working days, as credit rules usually allow, taken as seven
// calendar days. The cycle must also still be open, since only an open cycle
// can be corrected.
const AppealWindow = 7 * 24 * time.Hour

// AppealDecisionWindow is how long the county office has to decide an
// appeal: credit rules usually give 20 days (domain notes).
const AppealDecisionWindow = 20 * 24 * time.Hour

// AppealDecisionDue is when a pending appeal should be decided by; past it,
// the appeal is overdue and leads the county's queue.
func AppealDecisionDue(ap models.Appeal) time.Time { return ap.FiledAt.Add(AppealDecisionWindow) }

// FileAppeal lets a merchant contest one of its deductions with a reason (申诉).
// Errors: CodeForbidden (not the merchant), CodeNotFound, CodeInvalid (reason,
// not a deduction, too late), CodeCycleClosed, CodeConflict (already appealed
// or reversed). photos are up to MaxMerchantPhotos of the merchant's own
// uploads (the shop front as it really was).
func (s *Service) FileAppeal(ctx context.Context, a Actor, merchantID, entryID int64, reason string, photos ...int64) (models.Appeal, error) {
	if a.Role != RoleMerchant {
		return models.Appeal{}, errForbidden
	}
	if a.MerchantID != merchantID {
		return models.Appeal{}, errNotFound
	}
	f := fieldErrors{}
	reason = f.lines("reason", reason, true, 500)
	if err := f.err(); err != nil {
		return models.Appeal{}, err
	}
	photoIDs, err := s.ownPhotos(ctx, a, "photos", photos)
	if err != nil {
		return models.Appeal{}, err
	}
	e, err := s.db.LedgerEntryByID(ctx, entryID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && e.MerchantID != merchantID) {
		return models.Appeal{}, errNotFound
	}
	if err != nil {
		return models.Appeal{}, err
	}
	if e.Kind != models.KindDeduction {
		return models.Appeal{}, Invalid(map[string]string{"entry_id": "只能对扣分记录申诉"})
	}
	now := s.now()
	c, err := policy.ParseCycle(e.Cycle)
	if err != nil {
		return models.Appeal{}, err
	}
	if s.policy.IsClosed(c, now) {
		return models.Appeal{}, Errorf(CodeCycleClosed, "%s 考核周期已结束，不能再申诉", e.Cycle)
	}
	if now.Sub(e.CreatedAt) > AppealWindow {
		return models.Appeal{}, Invalid(map[string]string{"entry_id": "已超过申诉期限（扣分后 7 日内）"})
	}
	if rev, err := s.db.ReversedIDs(ctx, []int64{e.ID}); err != nil {
		return models.Appeal{}, err
	} else if _, done := rev[e.ID]; done {
		return models.Appeal{}, Errorf(CodeConflict, "该扣分已被冲正")
	}
	ap := models.Appeal{MerchantID: merchantID, EntryID: e.ID, Cycle: e.Cycle, Reason: reason, Status: models.AppealPending,
		PhotoIDs: photoIDs, FiledBy: a.UserID, FiledAt: now.Truncate(time.Millisecond)}
	if err := s.db.CreateAppeal(ctx, &ap); models.IsDuplicateOf(err, "uq_appeals_entry") {
		return models.Appeal{}, Errorf(CodeConflict, "该扣分已提交过申诉")
	} else if err != nil {
		return models.Appeal{}, err
	}
	return ap, nil
}

// AppealFilter narrows Appeals.
type AppealFilter struct {
	CountyID int64
	Status   string
	Paging
}

// Appeals lists appeals: a county's for its admins and officers (all for the
// city admin), a merchant's own for the merchant.
func (s *Service) Appeals(ctx context.Context, a Actor, f AppealFilter) ([]models.Appeal, int64, error) {
	p, err := f.Paging.check()
	if err != nil {
		return nil, 0, err
	}
	if f.Status != "" && f.Status != models.AppealPending && f.Status != models.AppealAccepted && f.Status != models.AppealRejected {
		return nil, 0, Invalid(map[string]string{"status": "应为 pending、accepted 或 rejected"})
	}
	q := models.AppealFilter{Status: f.Status, Limit: p.Limit, Offset: p.Offset}
	q.CountyIDs, q.MerchantID, err = a.listScope(f.CountyID)
	if err != nil {
		return nil, 0, err
	}
	out, total, err := s.db.ListAppeals(ctx, q)
	if out == nil {
		out = []models.Appeal{}
	}
	return out, total, err
}

// DecideAppeal settles a pending appeal (county admin of the merchant's county,
// or the city admin). Accepting reverses the deduction in the same transaction
// as the decision; rejecting needs a note for the merchant.
// Errors: CodeForbidden, CodeNotFound, CodeInvalid, CodeConflict (decided
// already), CodeCycleClosed (accepting after the cycle closed).
func (s *Service) DecideAppeal(ctx context.Context, a Actor, id int64, accept bool, note string) (models.Appeal, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.Appeal{}, errForbidden
	}
	f := fieldErrors{}
	note = f.lines("note", note, !accept, 500)
	if err := f.err(); err != nil {
		return models.Appeal{}, err
	}
	ap, err := s.db.AppealByID(ctx, id)
	if err != nil {
		return models.Appeal{}, storeErr(err, "申诉")
	}
	m, err := s.Merchant(ctx, a, ap.MerchantID)
	if err != nil {
		return models.Appeal{}, err
	}
	if ap.Status != models.AppealPending {
		return models.Appeal{}, Errorf(CodeConflict, "该申诉已处理")
	}
	now := s.now().Truncate(time.Millisecond)
	ap.DecidedBy, ap.DecidedAt, ap.DecisionNote = &a.UserID, &now, note
	decide := func(ctx context.Context) error {
		if err := s.db.DecideAppeal(ctx, ap); errors.Is(err, models.ErrNotFound) {
			return Errorf(CodeConflict, "该申诉已处理")
		} else if err != nil {
			return err
		}
		after := map[string]any{"appeal_id": ap.ID, "entry_id": ap.EntryID, "appeal_status": ap.Status, "note": note}
		if accept {
			after["reversed"] = true
		}
		return s.audit(ctx, a, auditRecord{kind: AuditAppealDecision, objectType: AuditObjectMerchant, objectID: m.ID,
			countyID: &m.CountyID, summary: fmt.Sprintf("%s 第%d号申诉（第%d号流水）", merchantLabel(m), ap.ID, ap.EntryID),
			before: map[string]any{"appeal_id": ap.ID, "entry_id": ap.EntryID, "appeal_status": models.AppealPending},
			after:  nonEmpty(after)})
	}
	if !accept {
		ap.Status = models.AppealRejected
		return ap, s.db.InTx(ctx, decide)
	}
	ap.Status = models.AppealAccepted
	reason := "申诉成立"
	if note != "" {
		reason += "：" + note
	}
	_, _, err = s.reverseEntry(ctx, a, ap.MerchantID, ap.EntryID, reason,
		func(ctx context.Context, _ models.LedgerEntry) error { return decide(ctx) })
	return ap, err
}
