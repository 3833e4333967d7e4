package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Credit repair (信用修复, after the NDRC's 信用修复管理办法): a merchant whose
// star a serious-item cap holds down applies for early repair once the
// minimum period passed (policy repair_min_cycles) and the breach was
// rectified, with a reason, a photo and a signed credit commitment (信用承诺);
// the county office grants or refuses it within repair_decision_days working
// days. A grant is a new row of the append-only repairs table: the serious
// items of the cycles it covers stop capping the star of every cycle that
// ends after the grant (the live standing from the next read on, rankings,
// the cycle's closing and `menqian check` alike). Nothing in the ledger
// changes, and repair is free of charge.

// AuditRepairDecision is the audit kind of a repair application's decision.
const AuditRepairDecision = "repair.decide"

// repairFree is said wherever repair is offered: the rules make it free.
const repairFree = "信用修复不收取任何费用。"

// repairsFor returns the granted repairs of the merchants whose score rows
// hold a serious item (the others have no cap a repair could lift), read
// with one query, none at all when no row is serious.
func (s *Service) repairsFor(ctx context.Context, rows map[int64][]models.Score) (map[int64][]models.Repair, error) {
	var ids []int64
	for id, rs := range rows {
		if slices.ContainsFunc(rs, func(r models.Score) bool { return r.Serious > 0 }) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	reps, err := s.db.RepairsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]models.Repair, len(ids))
	for _, r := range reps {
		out[r.MerchantID] = append(out[r.MerchantID], r)
	}
	return out, nil
}

// scoresWithRepairs reads the merchants' score rows of the cycles that
// decide cycle c's stars, with their merchants, and their repairs.
func (s *Service) scoresWithRepairs(ctx context.Context, ids []int64, c policy.Cycle) (map[int64]*models.MerchantScores, map[int64][]models.Repair, error) {
	rows, err := s.db.ScoresWithMerchants(ctx, ids, s.historyCycles(c))
	if err != nil {
		return nil, nil, err
	}
	scores := make(map[int64][]models.Score, len(rows))
	for id, r := range rows {
		scores[id] = r.Scores
	}
	reps, err := s.repairsFor(ctx, scores)
	return rows, reps, err
}

// repairsOfRows is repairsFor of one merchant.
func (s *Service) repairsOfRows(ctx context.Context, id int64, rows []models.Score) ([]models.Repair, error) {
	reps, err := s.repairsFor(ctx, map[int64][]models.Score{id: rows})
	return reps[id], err
}

// repairedThrough is the newest cycle the repairs cover in the evaluation of
// cycle c: a repair counts for every cycle that ends after it was granted
// (the cycle it was granted in included), so a closed cycle's star never
// changes and the current one's lifts at the grant.
func (s *Service) repairedThrough(reps []models.Repair, c policy.Cycle) policy.Cycle {
	var out policy.Cycle
	end := s.policy.CycleStart(c.Next())
	for _, r := range reps {
		through, err := policy.ParseCycle(r.ThroughCycle)
		if err != nil || !r.GrantedAt.Before(end) {
			continue
		}
		if out == (policy.Cycle{}) || out.Before(through) {
			out = through
		}
	}
	return out
}

// RepairNotice is how a deduction can be repaired, served with it (两书同达):
// a minor item needs no application, a serious one says when and how to apply.
func (s *Service) RepairNotice(e models.LedgerEntry) string {
	if e.Kind != models.KindDeduction {
		return ""
	}
	c, err := policy.ParseCycle(e.Cycle)
	if err != nil {
		return ""
	}
	p := s.policy
	if !e.Serious {
		return fmt.Sprintf("信用修复：本项只计入%s的积分，无需申请。按时整改、保持门前整洁，次月起按新的月度积分评定星级。%s",
			cycleName(c), repairFree)
	}
	last := c.Add(p.SeriousCapCycles - 1)
	return fmt.Sprintf("信用修复：本项为严重违规，%s至%s星级最高%d星。整改到位并经巡查员复查确认（或此后一次巡查没有扣分）后，"+
		"自%s起可在“信用修复”页提交修复申请和信用承诺，区县城管部门在%d个工作日（周一至周五）内答复，同意后星级上限即时解除。%s",
		cycleName(c), cycleName(last), p.SeriousCapStar, dateName(p.RepairOpens(c), p.Location()), p.RepairDecisionDays, repairFree)
}

func cycleName(c policy.Cycle) string { return fmt.Sprintf("%d年%d月", c.Year, c.Month) }

func dateName(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006年1月2日") }

// RepairItem is a serious deduction holding a merchant's star down, and
// whether it was rectified.
type RepairItem struct {
	Entry     models.LedgerEntry
	RuleName  string
	Rectified bool
}

// RepairStatus is where a merchant stands on credit repair now.
type RepairStatus struct {
	Capped       bool         // a serious-item cap holds the star now
	CapStar      int          // the cap's star
	Items        []RepairItem // the serious deductions behind the cap, oldest first
	Through      policy.Cycle // the newest cycle a repair would cover
	OpensAt      time.Time    // when the minimum period ends
	PeriodPassed bool
	Rectified    bool                      // every item rectified
	Open         *models.RepairApplication // the pending application, if any
	Eligible     bool                      // an application would be taken now
	Why          string                    // why not, in words ("" when eligible)
	DecisionDays int                       // working days the office has to decide
}

// RepairStatusOf tells a merchant's repair status now (whoever may see the
// merchant's history).
func (s *Service) RepairStatusOf(ctx context.Context, a Actor, merchantID int64) (RepairStatus, error) {
	m, err := s.historyMerchant(ctx, a, merchantID)
	if err != nil {
		return RepairStatus{}, err
	}
	return s.repairStatus(ctx, m)
}

func (s *Service) repairStatus(ctx context.Context, m models.Merchant) (RepairStatus, error) {
	p := s.policy
	now := s.now()
	c := p.CycleOf(now)
	st := RepairStatus{CapStar: p.SeriousCapStar, DecisionDays: p.RepairDecisionDays}
	rows, err := s.db.ScoresOf(ctx, []int64{m.ID}, s.historyCycles(c))
	if err != nil {
		return st, err
	}
	reps, err := s.repairsOfRows(ctx, m.ID, rows)
	if err != nil {
		return st, err
	}
	standing := s.standingFrom(m, c, rows, reps)
	st.Capped = p.Capped(standing)
	open, _, err := s.db.ListRepairApplications(ctx, models.RepairFilter{MerchantID: m.ID, Status: models.RepairPending, Limit: 1})
	if err != nil {
		return st, err
	}
	if len(open) > 0 {
		st.Open = &open[0]
	}
	// The cycles whose serious items cap the star now, those repaired left out.
	var capping []string
	for i := range max(1, p.SeriousCapCycles) {
		cc := c.Add(-i)
		if standing.RepairedThrough != (policy.Cycle{}) && !standing.RepairedThrough.Before(cc) {
			continue
		}
		capping = append(capping, cc.String())
	}
	entries, err := s.db.SeriousDeductions(ctx, m.ID, capping)
	if err != nil {
		return st, err
	}
	st.Rectified = len(entries) > 0
	for _, e := range entries {
		fixed, err := s.db.RectifiedSince(ctx, m.ID, e.RuleCode, e.OccurredAt)
		if err == nil && !fixed {
			fixed, err = s.db.CleanInspectionAfter(ctx, m.ID, e.OccurredAt)
		}
		if err != nil {
			return st, err
		}
		it := RepairItem{Entry: e, Rectified: fixed}
		if item, ok := p.Item(e.RuleCode); ok {
			it.RuleName = item.Name
		}
		st.Items = append(st.Items, it)
		st.Rectified = st.Rectified && fixed
		if ec, err := policy.ParseCycle(e.Cycle); err == nil && (st.Through == (policy.Cycle{}) || st.Through.Before(ec)) {
			st.Through = ec
		}
	}
	if st.Through != (policy.Cycle{}) {
		st.OpensAt = p.RepairOpens(st.Through)
		st.PeriodPassed = !now.Before(st.OpensAt)
	}
	switch {
	case st.Open != nil:
		st.Why = "已有一份修复申请正在办理，请等待答复"
	case !st.Capped || len(st.Items) == 0:
		st.Why = "目前星级没有受到严重违规的上限限制，无需申请信用修复"
	case !st.PeriodPassed:
		st.Why = fmt.Sprintf("未满最短期限：%s起才能申请", dateName(st.OpensAt, p.Location()))
	case !st.Rectified:
		st.Why = "严重违规尚未整改到位：需巡查员复查确认整改通知，或此后一次巡查没有扣分"
	case m.Status != models.MerchantActive:
		st.Why = "商户已注销"
	default:
		st.Eligible = true
	}
	return st, nil
}

// RepairInput is a merchant's repair application.
type RepairInput struct {
	Reason     string
	Photos     []int64 // the merchant's own uploads: the shop front as it is now (at least one)
	Pledge     bool    // the credit commitment (信用承诺) was ticked
	PledgeName string  // and signed with this name
}

// ApplyRepair files a merchant's application for early credit repair.
// Errors: CodeForbidden (not a merchant), CodeNotFound (another shop),
// CodeInvalid (reason, photo, commitment), CodeConflict (not capped, the
// minimum period not passed, not rectified, an application already open).
func (s *Service) ApplyRepair(ctx context.Context, a Actor, merchantID int64, in RepairInput) (models.RepairApplication, error) {
	if a.Role != RoleMerchant {
		return models.RepairApplication{}, errForbidden
	}
	if a.MerchantID != merchantID {
		return models.RepairApplication{}, errNotFound
	}
	f := fieldErrors{}
	reason := f.text("reason", in.Reason, true, 500)
	name := f.text("pledge_name", in.PledgeName, true, 64)
	if !in.Pledge {
		f.add("pledge", "请阅读并勾选信用承诺")
	}
	if len(in.Photos) == 0 {
		f.add("photos", "请上传一张整改后的门前照片")
	}
	if err := f.err(); err != nil {
		return models.RepairApplication{}, err
	}
	photoIDs, err := s.ownPhotos(ctx, a, "photos", in.Photos)
	if err != nil {
		return models.RepairApplication{}, err
	}
	m, err := s.Merchant(ctx, a, merchantID)
	if err != nil {
		return models.RepairApplication{}, err
	}
	st, err := s.repairStatus(ctx, m)
	if err != nil {
		return models.RepairApplication{}, err
	}
	if !st.Eligible {
		return models.RepairApplication{}, Errorf(CodeConflict, "%s", st.Why)
	}
	now := s.now().Truncate(time.Millisecond)
	app := models.RepairApplication{MerchantID: m.ID, CountyID: m.CountyID, ThroughCycle: st.Through.String(), Reason: reason,
		PhotoIDs: photoIDs, PledgeName: name, AppliedBy: a.UserID, AppliedAt: now, DueAt: s.policy.RepairDecisionDue(now),
		Status: models.RepairPending, OpenMerchantID: &m.ID}
	if err := s.db.CreateRepairApplication(ctx, &app); errors.Is(err, models.ErrDuplicate) {
		return models.RepairApplication{}, Errorf(CodeConflict, "已有一份修复申请正在办理，请等待答复")
	} else if err != nil {
		return models.RepairApplication{}, err
	}
	return app, nil
}

// RepairFilter narrows RepairApplications.
type RepairFilter struct {
	CountyID int64
	Status   string
	Paging
}

// RepairApplications lists repair applications, pending first by deadline:
// a county's for its admins (every county's for the city admin), a
// merchant's own for the merchant.
func (s *Service) RepairApplications(ctx context.Context, a Actor, f RepairFilter) ([]models.RepairApplication, int64, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleMerchant) {
		return nil, 0, errForbidden
	}
	p, err := f.Paging.check()
	if err != nil {
		return nil, 0, err
	}
	if f.Status != "" && f.Status != models.RepairPending && f.Status != models.RepairGranted && f.Status != models.RepairRefused {
		return nil, 0, Invalid(map[string]string{"status": "应为 pending、granted 或 refused"})
	}
	q := models.RepairFilter{Status: f.Status, Limit: p.Limit, Offset: p.Offset}
	if q.CountyIDs, q.MerchantID, err = a.listScope(f.CountyID); err != nil {
		return nil, 0, err
	}
	out, total, err := s.db.ListRepairApplications(ctx, q)
	if out == nil {
		out = []models.RepairApplication{}
	}
	return out, total, err
}

// DecideRepair grants or refuses a pending repair application with a note
// (the county admin of the shop's county, or the city admin). A grant
// appends the repair in the same transaction as the decision and its audit
// event; the leaderboards hear of it after commit.
// Errors: CodeForbidden, CodeNotFound (unknown, or another county's),
// CodeInvalid (no note), CodeConflict (decided already).
func (s *Service) DecideRepair(ctx context.Context, a Actor, id int64, grant bool, note string) (models.RepairApplication, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.RepairApplication{}, errForbidden
	}
	f := fieldErrors{}
	note = f.text("note", note, true, 500)
	if err := f.err(); err != nil {
		return models.RepairApplication{}, err
	}
	app, err := s.db.RepairApplicationByID(ctx, id)
	if err != nil {
		return models.RepairApplication{}, storeErr(err, "修复申请")
	}
	m, err := s.Merchant(ctx, a, app.MerchantID)
	if err != nil {
		return models.RepairApplication{}, err
	}
	if app.Status != models.RepairPending {
		return models.RepairApplication{}, Errorf(CodeConflict, "该修复申请已处理")
	}
	now := s.now().Truncate(time.Millisecond)
	app.Status, app.DecidedBy, app.DecidedAt, app.DecisionNote, app.OpenMerchantID = models.RepairRefused, &a.UserID, &now, note, nil
	if grant {
		app.Status = models.RepairGranted
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.DecideRepairApplication(ctx, app); errors.Is(err, models.ErrNotFound) {
			return Errorf(CodeConflict, "该修复申请已处理")
		} else if err != nil {
			return err
		}
		if grant {
			if err := s.db.CreateRepair(ctx, &models.Repair{ApplicationID: app.ID, MerchantID: m.ID, CountyID: m.CountyID,
				ThroughCycle: app.ThroughCycle, GrantedBy: a.UserID, GrantedAt: now}); err != nil {
				return err
			}
		}
		return s.audit(ctx, a, auditRecord{kind: AuditRepairDecision, objectType: AuditObjectMerchant, objectID: m.ID,
			countyID: &m.CountyID, summary: fmt.Sprintf("%s 第%d号信用修复申请（%s及以前的严重违规）", merchantLabel(m), app.ID, app.ThroughCycle),
			before: map[string]any{"repair_id": app.ID, "repair_status": models.RepairPending},
			after:  map[string]any{"repair_id": app.ID, "repair_status": app.Status, "note": note}})
	})
	if err != nil {
		return models.RepairApplication{}, err
	}
	if grant && s.scores != nil {
		// The rated star changed: the leaderboards and the plaque hear it after commit.
		c := s.policy.CycleOf(s.now())
		if st, err := s.standings(ctx, []models.Merchant{m}, c); err == nil {
			s.scores.ScoreChanged(ctx, m, c.String(), st[m.ID].Score, -1)
		}
	}
	return app, nil
}

// CheckRepairs proves every closed cycle's frozen stars from the score rows
// and the granted repairs (the scores themselves are proved by Check), and
// that every repair is the grant of its application: the same shop and
// cycles, granted when it was decided, after the cycles it covers closed.
func (s *Service) CheckRepairs(ctx context.Context) ([]string, error) {
	var problems []string
	reps, err := s.db.AllRepairs(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range reps {
		app, err := s.db.RepairApplicationByID(ctx, r.ApplicationID)
		if err != nil {
			problems = append(problems, fmt.Sprintf("repair %d: its application %d: %v", r.ID, r.ApplicationID, err))
			continue
		}
		through, perr := policy.ParseCycle(r.ThroughCycle)
		switch {
		case app.Status != models.RepairGranted || app.MerchantID != r.MerchantID || app.ThroughCycle != r.ThroughCycle ||
			app.DecidedAt == nil || !app.DecidedAt.Equal(r.GrantedAt):
			problems = append(problems, fmt.Sprintf("repair %d: merchant %d through %s granted %s is not the grant of application %d (%s, merchant %d, through %s)",
				r.ID, r.MerchantID, r.ThroughCycle, r.GrantedAt.Format(time.RFC3339Nano), app.ID, app.Status, app.MerchantID, app.ThroughCycle))
		case perr != nil || r.GrantedAt.Before(s.policy.GraceEnd(through)):
			problems = append(problems, fmt.Sprintf("repair %d: granted %s, before cycle %s closed", r.ID, r.GrantedAt.Format(time.RFC3339Nano), r.ThroughCycle))
		}
	}
	byCycle := map[string][]models.MerchantResult{}
	err = s.db.EachFrozenMerchant(ctx, func(m models.MerchantResult) error {
		byCycle[m.Cycle] = append(byCycle[m.Cycle], m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name, frozen := range byCycle {
		c, err := policy.ParseCycle(name)
		if err != nil {
			problems = append(problems, fmt.Sprintf("cycle %q: unreadable", name))
			continue
		}
		for chunk := range slices.Chunk(frozen, 1000) {
			more, err := s.checkFrozenStars(ctx, c, chunk)
			if err != nil {
				return nil, err
			}
			problems = append(problems, more...)
		}
	}
	slices.Sort(problems)
	return problems, nil
}

// checkFrozenStars recomputes the stars of some frozen results of cycle c.
func (s *Service) checkFrozenStars(ctx context.Context, c policy.Cycle, frozen []models.MerchantResult) ([]string, error) {
	ids := make([]int64, len(frozen))
	for i, m := range frozen {
		ids[i] = m.MerchantID
	}
	rows, reps, err := s.scoresWithRepairs(ctx, ids, c)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, m := range frozen {
		r, ok := rows[m.MerchantID]
		if !ok {
			problems = append(problems, fmt.Sprintf("cycle %s merchant %d: frozen, but no such shop", c, m.MerchantID))
			continue
		}
		res := s.policy.Evaluate(s.standingFrom(models.Merchant{ID: m.MerchantID, CreatedAt: r.CreatedAt}, c, r.Scores, reps[m.MerchantID]))
		if res.Score != m.Score || res.Star != m.Star || res.RatedStar != m.RatedStar {
			problems = append(problems, fmt.Sprintf("cycle %s merchant %d: frozen score %d, star %d, rated %d; its rows and repairs give %d, %d, %d",
				c, m.MerchantID, m.Score, m.Star, m.RatedStar, res.Score, res.Star, res.RatedStar))
		}
	}
	return problems, nil
}
