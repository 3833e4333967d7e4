package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service/policy"
)

// InspectionItem is one catalogue item found during an inspection.
type InspectionItem struct {
	RuleCode string `json:"rule_code"`
	Points   *int   `json:"points,omitempty"`
	Note     string `json:"note,omitempty"`
}

// InspectionInput is an officer's record, as sent.
type InspectionInput struct {
	MerchantID  int64            `json:"merchant_id,omitempty"`
	QRToken     string           `json:"qr_token,omitempty"`
	InspectedAt *time.Time       `json:"inspected_at,omitempty"`
	Items       []InspectionItem `json:"items"`
	Photos      []int64          `json:"photos,omitempty"`
	Note        string           `json:"note,omitempty"`
	Lat         *float64         `json:"lat,omitempty"`
	Lng         *float64         `json:"lng,omitempty"`
}

// InspectionResult is the response of a recorded inspection; a replay returns
// the first one unchanged.
type InspectionResult struct {
	ID         int64         `json:"id"`
	MerchantID int64         `json:"merchant_id"`
	Delta      int           `json:"delta"`
	Score      policy.Result `json:"score"`
}

// Limits of one inspection.
const (
	maxItems  = 20
	maxPhotos = 9
	maxKeyLen = 128
)

// RecordInspection records an officer's inspection: one ledger entry per item
// and the merchant's cycle score, in one transaction together with the
// idempotency key. The same key and body return the first result (replayed
// true); the same key with another body is CodeKeyReused.
//
// Errors: CodeForbidden (role), CodeNotFound (merchant or plaque not visible),
// CodeInvalid (items, points, photos, times), CodeCycleClosed, CodeConflict
// (merchant closed), CodeKeyReused.
func (s *Service) RecordInspection(ctx context.Context, a Actor, key string, in InspectionInput) (InspectionResult, bool, error) {
	if !a.can(RoleOfficer, RoleCountyAdmin, RoleCityAdmin) {
		return InspectionResult{}, false, errForbidden
	}
	if key == "" || len(key) > maxKeyLen || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return InspectionResult{}, false, Invalid(map[string]string{"Idempotency-Key": "请求头 Idempotency-Key 必填（1–128 个可见 ASCII 字符）"})
	}
	canon, _ := json.Marshal(in)
	sum := sha256.Sum256(canon)
	hash := hex.EncodeToString(sum[:])
	r, err := s.prepareRecording(ctx, a, key, hash, in)
	if err == nil {
		if s.recorder.record(r) {
			err = r.err
		} else {
			err = r.ctx.Err()
		}
	}
	if err == nil {
		return r.result, false, nil
	}
	// The key is looked up only when recording fails: a used key always makes
	// it fail (on the unique key at the latest, once the first copy has
	// committed), and the first answer then wins over any other outcome, so a
	// retry after the cycle or the merchant closed still gets it. The normal
	// path saves a query.
	if prev, ok, rerr := s.replay(ctx, a, key, hash); ok || rerr != nil {
		return prev, ok, rerr
	}
	return InspectionResult{}, false, err
}

// prepareRecording checks what needs no lock and makes the recording the
// recorder commits; admission against the locked merchant happens there.
func (s *Service) prepareRecording(ctx context.Context, a Actor, key, hash string, in InspectionInput) (*recording, error) {
	now := s.now()
	at := now
	if in.InspectedAt != nil {
		at = in.InspectedAt.UTC()
	}
	entries, delta, err := s.checkInspection(a, in, at, now)
	if err != nil {
		return nil, err
	}
	merchantID, err := s.inspectionMerchant(ctx, in)
	if err != nil {
		return nil, err
	}
	cycle := s.policy.CycleOf(at)
	row := models.Inspection{
		MerchantID: merchantID, OfficerID: a.UserID, Cycle: cycle.String(), InspectedAt: at.Truncate(time.Millisecond),
		Lat: in.Lat, Lng: in.Lng, Note: cleanLines(in.Note), PhotoIDs: formatIDs(in.Photos),
		Delta: delta, IdempotencyKey: key, RequestHash: hash, CreatedAt: now.Truncate(time.Millisecond),
	}
	admit := func(lk models.RecordLock) error {
		m := lk.Merchant
		if !a.InCounty(m.CountyID) {
			return errNotFound
		}
		if m.Status != "active" {
			return Errorf(CodeConflict, "商户已注销，不能记录巡查")
		}
		if err := evidenceError(lk, len(in.Photos)); err != nil {
			return err
		}
		// Not even earlier in the cycle the shop was registered in: nothing
		// can be seen of a shop front before the shop exists. A phone's clock
		// running slow is forgiven as much as one running fast.
		if at.Before(m.CreatedAt.Add(-s.policy.FutureSkew.Duration)) {
			return Invalid(map[string]string{"inspected_at": "早于商户登记时间"})
		}
		return nil
	}
	return &recording{ctx: ctx, merchantID: merchantID, cycle: cycle, entries: entries, photos: in.Photos, row: row, delta: delta, admit: admit, done: make(chan struct{})}, nil
}

// evidenceError refuses evidence photos that do not exist, are not of the
// merchant's county or are already evidence of another shop, given the
// counts of lk (see models.RecordLock.CountPhotos).
func evidenceError(lk models.RecordLock, n int) error {
	switch {
	case lk.PhotosFound != n:
		return Invalid(map[string]string{"photos": "照片不存在"})
	case lk.PhotosInCounty != n:
		return Invalid(map[string]string{"photos": "照片不属于该商户所在区县"})
	case lk.PhotosElsewhere > 0:
		return Invalid(map[string]string{"photos": errPhotoOfOtherShop})
	}
	return nil
}

// replay answers a request whose key the officer has used before.
func (s *Service) replay(ctx context.Context, a Actor, key, hash string) (InspectionResult, bool, error) {
	prev, err := s.db.InspectionByKey(ctx, a.UserID, key)
	if errors.Is(err, models.ErrNotFound) {
		return InspectionResult{}, false, nil
	}
	if err != nil {
		return InspectionResult{}, false, err
	}
	if prev.RequestHash != hash {
		return InspectionResult{}, false, Errorf(CodeKeyReused, "该 Idempotency-Key 已用于另一条不同的巡查记录")
	}
	res := InspectionResult{ID: prev.ID, MerchantID: prev.MerchantID, Delta: prev.Delta}
	if err := json.Unmarshal([]byte(prev.Response), &res.Score); err != nil {
		return InspectionResult{}, false, fmt.Errorf("stored response of inspection %d: %w", prev.ID, err)
	}
	return res, true, nil
}

// inspectionMerchant names the merchant by id or plaque token. Whether the
// actor may inspect it is decided under the recording transaction's lock.
func (s *Service) inspectionMerchant(ctx context.Context, in InspectionInput) (int64, error) {
	switch {
	case in.MerchantID != 0 && in.QRToken != "":
		return 0, Invalid(map[string]string{"merchant_id": "merchant_id 与 qr_token 只能给出一个"})
	case in.QRToken != "":
		m, err := s.merchantByToken(ctx, in.QRToken)
		return m.ID, err
	case in.MerchantID > 0:
		return in.MerchantID, nil
	}
	return 0, Invalid(map[string]string{"merchant_id": "必填（或给出 qr_token）"})
}

// merchantByToken resolves a plaque token; forged and replaced plaques are not found.
func (s *Service) merchantByToken(ctx context.Context, token string) (models.Merchant, error) {
	code, gen, err := s.plaques.Parse(token)
	if err != nil {
		return models.Merchant{}, errNotFound
	}
	m, err := s.db.MerchantByCode(ctx, code)
	if err != nil {
		return models.Merchant{}, storeErr(err, "商户")
	}
	if m.QRGeneration != gen {
		return models.Merchant{}, errOldPlaque
	}
	return m, nil
}

// checkInspection validates what needs no stored data: items, points, the
// number of photos, location and time; it builds the ledger entries (merchant
// unset) with the signed points and the total delta.
func (s *Service) checkInspection(a Actor, in InspectionInput, at, now time.Time) ([]models.LedgerEntry, int, error) {
	f := fieldErrors{}
	if len(in.Items) == 0 {
		f.add("items", "至少一项")
	}
	if len(in.Items) > maxItems {
		f.add("items", fmt.Sprintf("最多 %d 项", maxItems))
	}
	f.lines("note", in.Note, false, 500)
	// Written as "not within" so that NaN, which no comparison holds for, is
	// refused too (JSON cannot carry it; a page form or a Go caller can).
	if in.Lat != nil && !(*in.Lat >= -90 && *in.Lat <= 90) {
		f.add("lat", "纬度应在 -90 到 90 之间")
	}
	if in.Lng != nil && !(*in.Lng >= -180 && *in.Lng <= 180) {
		f.add("lng", "经度应在 -180 到 180 之间")
	}
	cycle := s.policy.CycleOf(at).String()
	items := s.checkItems(f, in.Items, "同一次巡查中重复的规则", nil)
	entries := make([]models.LedgerEntry, 0, len(items))
	delta, deductions := 0, 0
	for _, it := range items {
		signed := it.points
		if it.rule.Kind == policy.Deduction {
			signed = -it.points
			deductions++
		}
		delta += signed
		entries = append(entries, models.LedgerEntry{
			Cycle: cycle, Kind: string(it.rule.Kind), CountsAs: string(it.rule.Kind), Points: signed,
			Serious: it.rule.Serious, RuleCode: it.rule.Code, AuthorID: a.UserID, Note: it.note,
			OccurredAt: at.Truncate(time.Millisecond), CreatedAt: now.Truncate(time.Millisecond),
		})
	}
	if deductions > 0 && len(in.Photos) == 0 {
		f.add("photos", "扣分须附至少一张现场照片")
	}
	if len(in.Photos) > maxPhotos {
		f.add("photos", fmt.Sprintf("最多 %d 张照片", maxPhotos))
	}
	if len(uniqueIDs(in.Photos)) != len(in.Photos) {
		f.add("photos", "照片重复")
	}
	if err := f.err(); err != nil {
		return nil, 0, err
	}
	switch err := s.policy.CheckRecordTime(now, at); {
	case errors.Is(err, policy.ErrFutureTime):
		return nil, 0, Invalid(map[string]string{"inspected_at": "巡查时间不能晚于当前时间"})
	case errors.Is(err, policy.ErrCycleClosed):
		return nil, 0, &Error{Code: CodeCycleClosed, Message: "该月考核周期已结束（宽限期已过），不能再补录", Fields: map[string]string{"inspected_at": cycle + " 已关闭"}}
	}
	return entries, delta, nil
}

// checkedItem is an item of an inspection or an audit visit whose rule,
// points and note passed checkItems.
type checkedItem struct {
	rule   policy.Item
	points int // the rule's default when none was given
	note   string
}

// checkItems checks recorded items against the catalogue, adding what is
// wrong to f under items[i]: a known rule, each at most once (dup says a
// repeat is wrong), the points within the rule's range and the note. refuse,
// when set, names what is wrong with a rule the caller does not take ("":
// taken). It returns the items that passed, in order.
func (s *Service) checkItems(f fieldErrors, items []InspectionItem, dup string, refuse func(policy.Item) string) []checkedItem {
	out := make([]checkedItem, 0, len(items))
	seen := map[string]bool{}
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		rule, ok := s.policy.Item(it.RuleCode)
		if !ok {
			f.add(field+".rule_code", "未知的规则编码 "+strconv.Quote(it.RuleCode))
			continue
		}
		if refuse != nil {
			if why := refuse(rule); why != "" {
				f.add(field+".rule_code", why)
				continue
			}
		}
		if seen[rule.Code] {
			f.add(field+".rule_code", dup)
			continue
		}
		seen[rule.Code] = true
		pts := rule.Points
		if it.Points != nil {
			pts = *it.Points
		}
		if pts < rule.MinPoints || pts > rule.MaxPoints {
			f.add(field+".points", fmt.Sprintf("%s 的分值应在 %d 到 %d 之间", rule.Code, rule.MinPoints, rule.MaxPoints))
			continue
		}
		out = append(out, checkedItem{rule: rule, points: pts, note: f.text(field+".note", it.Note, false, 500)})
	}
	return out
}

// errNoScoreRow ends a recording transaction that found no score row to lock.
var errNoScoreRow = errors.New("score row missing")

// applyEntries appends ledger entries of one merchant and cycle (a reversal)
// and moves the cycle's score with them, in one transaction under the lock of
// the merchant and its score rows (models.LockForRecord). before is called
// with the new result and this attempt's copy of the entries, to store what
// belongs to the same change (an appeal's decision) before the entries are
// written. Inspections take the batched path of recorder.go; both tally with
// Service.tally. Deadlocks and lock timeouts run the transaction again.
// Listeners hear after commit.
func (s *Service) applyEntries(ctx context.Context, merchantID int64, cycle policy.Cycle, entries []models.LedgerEntry,
	before func(ctx context.Context, r policy.Result, batch []models.LedgerEntry) error) error {
	var m models.Merchant
	var cur *models.Score
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.db.InTx(ctx, func(ctx context.Context) error {
			lk, err := s.db.LockForRecord(ctx, merchantID, s.historyCycles(cycle), nil)
			if errors.Is(err, models.ErrNotFound) {
				return errNotFound
			}
			if err != nil {
				return err
			}
			m = lk.Merchant
			if cur = scoreRow(lk.Scores, cycle.String()); cur == nil {
				return errNoScoreRow
			}
			batch := s.tally(cur, merchantID, entries)
			if err := s.db.SetScores(ctx, []models.Score{*cur}); err != nil {
				return err
			}
			reps, err := s.repairsOfRows(ctx, merchantID, lk.Scores)
			if err != nil {
				return err
			}
			if err := before(ctx, s.policy.Evaluate(s.standingFrom(m, cycle, lk.Scores, reps)), batch); err != nil {
				return err
			}
			return s.db.AppendLedger(ctx, batch)
		})
		if errors.Is(err, errNoScoreRow) {
			if err = s.ensureScoreRow(ctx, merchantID, cycle.String()); err != nil {
				return err
			}
			err = errNoScoreRow
			continue
		}
		if err == nil || !models.IsRetryable(err) {
			break
		}
	}
	if err != nil {
		return err
	}
	s.scores.ScoreChanged(ctx, m, cycle.String(), cur.Score, cur.Entries)
	return nil
}

// PlaqueToken returns the token printed on the merchant's current plaque.
func (s *Service) PlaqueToken(m models.Merchant) string {
	return s.plaques.Token(m.Code, m.QRGeneration)
}

// PlaqueURL returns the URL the merchant's current plaque encodes.
func (s *Service) PlaqueURL(m models.Merchant) string {
	return qrcodes.PlaqueURL(s.publicURL, s.PlaqueToken(m))
}
