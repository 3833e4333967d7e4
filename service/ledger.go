package service

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// InspectionView is an inspection with its entries, officer and evidence.
type InspectionView struct {
	models.Inspection
	OfficerName string
	Photos      []int64
	// CitizenPhotos marks which of Photos a citizen took (a report's photo
	// made evidence when its case was handled), to be labelled so.
	CitizenPhotos map[int64]bool
	Entries       []LedgerView
}

// LedgerView is a ledger entry with its rule and author named.
type LedgerView struct {
	models.LedgerEntry
	RuleName   string
	AuthorName string
	ReversedBy *int64
	Photos     []int64
	// CitizenPhotos marks which of Photos a citizen took (see InspectionView).
	CitizenPhotos map[int64]bool
	Appeal        *models.Appeal // the merchant's appeal of this entry, if any
}

// canReadHistory: admins and officers of the merchant's county, and the merchant itself.
func (s *Service) historyMerchant(ctx context.Context, a Actor, id int64) (models.Merchant, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer, RoleMerchant) {
		return models.Merchant{}, errForbidden
	}
	return s.Merchant(ctx, a, id)
}

// Inspections lists a merchant's inspections, newest first, with their entries.
func (s *Service) Inspections(ctx context.Context, a Actor, merchantID int64, p Paging) ([]InspectionView, int64, error) {
	if _, err := s.historyMerchant(ctx, a, merchantID); err != nil {
		return nil, 0, err
	}
	p, err := p.check()
	if err != nil {
		return nil, 0, err
	}
	ins, total, err := s.db.ListInspections(ctx, merchantID, p.Limit, p.Offset)
	if err != nil || len(ins) == 0 {
		return []InspectionView{}, total, err
	}
	ids := make([]int64, len(ins))
	for i, in := range ins {
		ids[i] = in.ID
	}
	entries, err := s.db.LedgerOfInspections(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	views, err := s.ledgerViews(ctx, entries, ins)
	if err != nil {
		return nil, 0, err
	}
	names, err := s.userNames(ctx, officerIDs(ins))
	if err != nil {
		return nil, 0, err
	}
	citizen, err := s.citizenPhotos(ctx, ins)
	if err != nil {
		return nil, 0, err
	}
	out := make([]InspectionView, len(ins))
	byIns := map[int64][]LedgerView{}
	for _, v := range views {
		byIns[*v.InspectionID] = append(byIns[*v.InspectionID], v)
	}
	for i, in := range ins {
		out[i] = InspectionView{Inspection: in, OfficerName: names[in.OfficerID], Photos: parseIDs(in.PhotoIDs),
			CitizenPhotos: citizen, Entries: byIns[in.ID]}
	}
	return out, total, nil
}

// Ledger returns a merchant's ledger for one cycle (the current one when empty)
// with the cycle's standing.
func (s *Service) Ledger(ctx context.Context, a Actor, merchantID int64, cycle string) ([]LedgerView, policy.Result, error) {
	m, err := s.historyMerchant(ctx, a, merchantID)
	if err != nil {
		return nil, policy.Result{}, err
	}
	c := s.policy.CycleOf(s.now())
	if cycle != "" {
		if c, err = policy.ParseCycle(cycle); err != nil {
			return nil, policy.Result{}, Invalid(map[string]string{"cycle": "格式应为 YYYY-MM"})
		}
	}
	entries, err := s.db.LedgerOf(ctx, merchantID, c.String())
	if err != nil {
		return nil, policy.Result{}, err
	}
	ins, err := s.db.InspectionsByIDs(ctx, uniqueIDs(inspectionIDs(entries)))
	if err != nil {
		return nil, policy.Result{}, err
	}
	views, err := s.ledgerViews(ctx, entries, ins)
	if err != nil {
		return nil, policy.Result{}, err
	}
	st, err := s.standings(ctx, []models.Merchant{m}, c)
	return views, st[m.ID], err
}

func (s *Service) ledgerViews(ctx context.Context, entries []models.LedgerEntry, ins []models.Inspection) ([]LedgerView, error) {
	ids := make([]int64, len(entries))
	authors := make([]int64, len(entries))
	for i, e := range entries {
		ids[i], authors[i] = e.ID, e.AuthorID
	}
	reversed, err := s.db.ReversedIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	names, err := s.userNames(ctx, authors)
	if err != nil {
		return nil, err
	}
	appeals, err := s.db.AppealsOfEntries(ctx, ids)
	if err != nil {
		return nil, err
	}
	photos := map[int64][]int64{}
	for _, in := range ins {
		photos[in.ID] = parseIDs(in.PhotoIDs)
	}
	citizen, err := s.citizenPhotos(ctx, ins)
	if err != nil {
		return nil, err
	}
	out := make([]LedgerView, len(entries))
	for i, e := range entries {
		v := LedgerView{LedgerEntry: e, AuthorName: names[e.AuthorID]}
		if it, ok := s.policy.Item(e.RuleCode); ok {
			v.RuleName = it.Name
		}
		if r, ok := reversed[e.ID]; ok {
			v.ReversedBy = &r
		}
		if ap, ok := appeals[e.ID]; ok {
			v.Appeal = &ap
		}
		if e.InspectionID != nil {
			v.Photos, v.CitizenPhotos = photos[*e.InspectionID], citizen
		}
		out[i] = v
	}
	return out, nil
}

func (s *Service) userNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	users, err := s.db.UsersByIDs(ctx, uniqueIDs(ids))
	out := make(map[int64]string, len(users))
	for _, u := range users {
		out[u.ID] = u.DisplayName
		if u.DisplayName == "" {
			out[u.ID] = u.Username
		}
	}
	return out, err
}

// ReverseEntry cancels a ledger entry with a reason (county admin of the
// merchant's county, or the city admin): a new reversal entry, nothing edited.
// Errors: CodeNotFound, CodeForbidden, CodeInvalid (reason, a reversal),
// CodeConflict (already reversed), CodeCycleClosed.
func (s *Service) ReverseEntry(ctx context.Context, a Actor, merchantID, entryID int64, reason string) (LedgerView, policy.Result, error) {
	return s.reverseEntry(ctx, a, merchantID, entryID, reason, nil)
}

// reverseEntry is ReverseEntry; within, when set, runs inside the reversal's
// transaction before the entry is written (an appeal's decision), and its
// error undoes everything.
func (s *Service) reverseEntry(ctx context.Context, a Actor, merchantID, entryID int64, reason string,
	within func(ctx context.Context, e models.LedgerEntry) error) (LedgerView, policy.Result, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return LedgerView{}, policy.Result{}, errForbidden
	}
	f := fieldErrors{}
	reason = f.lines("reason", reason, true, 500)
	if err := f.err(); err != nil {
		return LedgerView{}, policy.Result{}, err
	}
	m, err := s.Merchant(ctx, a, merchantID)
	if err != nil {
		return LedgerView{}, policy.Result{}, err
	}
	e, err := s.db.LedgerEntryByID(ctx, entryID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && e.MerchantID != m.ID) {
		return LedgerView{}, policy.Result{}, errNotFound
	}
	if err != nil {
		return LedgerView{}, policy.Result{}, err
	}
	if e.Kind == models.KindReversal {
		return LedgerView{}, policy.Result{}, Invalid(map[string]string{"entry_id": "冲正记录不能再冲正"})
	}
	c, err := policy.ParseCycle(e.Cycle)
	if err != nil {
		return LedgerView{}, policy.Result{}, err
	}
	now := s.now()
	if s.policy.IsClosed(c, now) {
		return LedgerView{}, policy.Result{}, Errorf(CodeCycleClosed, "%s 考核周期已结束，不能冲正", e.Cycle)
	}
	rev := models.LedgerEntry{
		MerchantID: m.ID, Cycle: e.Cycle, Kind: models.KindReversal, CountsAs: e.CountsAs, Points: -e.Points,
		Serious: e.Serious, RuleCode: e.RuleCode, ReversesID: &e.ID, AuthorID: a.UserID, Reason: reason,
		OccurredAt: now.Truncate(time.Millisecond), CreatedAt: now.Truncate(time.Millisecond),
	}
	var result policy.Result
	entries := []models.LedgerEntry{rev}
	err = s.applyEntries(ctx, m.ID, c, entries,
		func(ctx context.Context, r policy.Result, batch []models.LedgerEntry) error {
			result = r
			entries = batch
			if within != nil {
				return within(ctx, e)
			}
			return s.audit(ctx, a, auditRecord{kind: AuditReversal, objectType: AuditObjectMerchant, objectID: m.ID,
				countyID: &m.CountyID, summary: s.entrySummary(m, e),
				before: map[string]any{"entry_id": e.ID, "rule_code": e.RuleCode, "points": e.Points, "reversed": false},
				after:  map[string]any{"entry_id": e.ID, "rule_code": e.RuleCode, "points": e.Points, "reversed": true, "reason": reason}})
		})
	if models.IsDuplicateOf(err, "uq_ledger_reverses") {
		return LedgerView{}, policy.Result{}, Errorf(CodeConflict, "该记录已被冲正")
	}
	if err != nil {
		return LedgerView{}, policy.Result{}, err
	}
	views, err := s.ledgerViews(ctx, entries, nil)
	if err != nil || len(views) == 0 {
		return LedgerView{}, result, err
	}
	return views[0], result, nil
}

// Mismatch is a merchant cycle whose stored score differs from its ledger.
type Mismatch struct {
	MerchantID      int64
	Cycle           string
	Stored, Ledger  models.LedgerTally
	StoredScore     int
	RecomputedScore int
}

// Check recomputes every score from the ledger and returns the rows that differ.
func (s *Service) Check(ctx context.Context) ([]Mismatch, int, error) {
	tallies, err := s.db.LedgerTallies(ctx)
	if err != nil {
		return nil, 0, err
	}
	var out []Mismatch
	n := 0
	err = s.db.EachScore(ctx, func(sc models.Score) error {
		n++
		key := models.ScoreKey{MerchantID: sc.MerchantID, Cycle: sc.Cycle}
		l := tallies[key]
		delete(tallies, key)
		want := s.policy.Score(policy.Tally{Deductions: l.Deductions, Bonuses: l.Bonuses, Serious: l.Serious})
		if sc.Deductions != l.Deductions || sc.Bonuses != l.Bonuses || sc.Serious != l.Serious || sc.Entries != l.Entries || sc.Score != want {
			out = append(out, Mismatch{MerchantID: sc.MerchantID, Cycle: sc.Cycle, Stored: models.LedgerTally{
				Deductions: sc.Deductions, Bonuses: sc.Bonuses, Serious: sc.Serious, Entries: sc.Entries}, Ledger: l,
				StoredScore: sc.Score, RecomputedScore: want})
		}
		return nil
	})
	for key, l := range tallies { // ledger entries with no score row at all
		out = append(out, Mismatch{MerchantID: key.MerchantID, Cycle: key.Cycle, Ledger: l,
			RecomputedScore: s.policy.Score(policy.Tally{Deductions: l.Deductions, Bonuses: l.Bonuses, Serious: l.Serious})})
	}
	return out, n, err
}

// formatIDs stores ids the way parseIDs reads them: comma-separated, in order.
func formatIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func parseIDs(s string) []int64 {
	out := []int64{}
	for _, p := range strings.Split(s, ",") {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func officerIDs(ins []models.Inspection) []int64 {
	out := make([]int64, len(ins))
	for i, in := range ins {
		out[i] = in.OfficerID
	}
	return out
}

func inspectionIDs(es []models.LedgerEntry) []int64 {
	var out []int64
	for _, e := range es {
		if e.InspectionID != nil {
			out = append(out, *e.InspectionID)
		}
	}
	return out
}

// LedgerEntryOf returns one entry of a merchant's ledger with its rule,
// author, photos, reversal and appeal (county users and the merchant itself).
func (s *Service) LedgerEntryOf(ctx context.Context, a Actor, merchantID, entryID int64) (LedgerView, error) {
	if _, err := s.historyMerchant(ctx, a, merchantID); err != nil {
		return LedgerView{}, err
	}
	e, err := s.db.LedgerEntryByID(ctx, entryID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && e.MerchantID != merchantID) {
		return LedgerView{}, errNotFound
	}
	if err != nil {
		return LedgerView{}, err
	}
	var ins []models.Inspection
	if e.InspectionID != nil {
		if ins, err = s.db.InspectionsByIDs(ctx, []int64{*e.InspectionID}); err != nil {
			return LedgerView{}, err
		}
	}
	vs, err := s.ledgerViews(ctx, []models.LedgerEntry{e}, ins)
	if err != nil {
		return LedgerView{}, err
	}
	return vs[0], nil
}

// ParseIDs reads a stored comma-separated id list.
func ParseIDs(s string) []int64 { return parseIDs(s) }
