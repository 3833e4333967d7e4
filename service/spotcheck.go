package service

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Random audits (抽查): the county admin draws a sample of shops per road
// with a recorded seed; an auditor visits them blind to the officers'
// records of the cycle and notes what it finds. Nothing an audit records
// moves points or reaches the ledger, rankings or the merchant's pages; it
// only measures how far each officer agrees with the auditor
// (AuditAgreement), for the fairness report.

// SpotCheckAlgorithm names the draw, stored with every audit: for each road
// in ascending id, the county's active shops of the road sorted by id, and a
// PCG generator (math/rand/v2's PCG, seeded with (seed, road id)) drives a
// partial Fisher–Yates shuffle: for i from 0 to k−1, j = i + u(n−i) and
// swap(i, j), where u(m) takes the generator's next Uint64 x, rejects x <
// 2^64 mod m and answers x mod m (unbiased). The first k shops, in that
// order, are the road's sample. Seeding per road makes a road's sample
// independent of the other roads' sizes.
const SpotCheckAlgorithm = "pcg-fisher-yates-v1"

// Bounds of a draw.
const (
	MaxSpotCheckSize = 50              // shops per road (Xiamen's assessors take 20)
	MaxSpotCheckSeed = 999_999_999_999 // seeds are 1..this: twelve digits to read out and type
)

// AuditSpotCheckDraw is the audit-log kind of a draw.
const AuditSpotCheckDraw = "spotcheck.draw"

// AuditObjectSpotCheck is the audit-log object of a draw.
const AuditObjectSpotCheck = "spotcheck"

// SampleShops draws k of the shop ids of one road (ascending, as the draw
// sorts them) with the seed, by SpotCheckAlgorithm: the same seed, road and
// ids give the same sample in the same order on any machine.
func SampleShops(seed, roadID int64, ids []int64, k int) []int64 {
	ids = slices.Clone(ids)
	k = min(k, len(ids))
	src := mrand.NewPCG(uint64(seed), uint64(roadID))
	for i := 0; i < k; i++ {
		j := i + int(uniformBelow(src, uint64(len(ids)-i)))
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids[:k]
}

// uniformBelow answers an unbiased number in [0, m) from src (m > 0):
// rejection of the 2^64 mod m lowest outputs, then x mod m.
func uniformBelow(src *mrand.PCG, m uint64) uint64 {
	threshold := -m % m
	for {
		if x := src.Uint64(); x >= threshold {
			return x % m
		}
	}
}

// SpotCheckInput is a county admin's draw.
type SpotCheckInput struct {
	CountyID  int64
	Cycle     string        // "": the current cycle
	Seed      *int64        // nil: a random seed, recorded
	Size      int           // shops per road
	RoadSizes map[int64]int // sizes of single roads, instead of Size
	AuditorID int64         // an auditor or county admin of the county
	Note      string
}

// SpotCheckRoad is one road of a draw: the size asked, the number of active
// shops it was drawn from, and its sample.
type SpotCheckRoad struct {
	RoadID     int64
	RoadName   string
	Size       int
	Population int
	Shops      []SpotCheckShopView
}

// SpotCheckShopView is a sampled shop, its visit and what the auditor found
// there. It never carries the shop's score, star or inspections.
type SpotCheckShopView struct {
	models.SpotCheckShopLine
	Records []models.SpotCheckRecord
}

// SpotCheckView is an audit with its sample by road.
type SpotCheckView struct {
	models.SpotCheck
	CountyName string
	Auditor    string // the auditor's name
	Roads      []SpotCheckRoad
	Shops      int
	Visited    int
	Open       bool // visits are still accepted (the cycle's grace period is not over)
}

// drawRoad is a road's line of an audit's stored draw.
type drawRoad struct {
	RoadID     int64 `json:"road_id"`
	Size       int   `json:"size"`
	Population int   `json:"population"`
}

// DrawSpotCheck draws a random audit of a county's cycle (its county admin):
// a sample of each road's active shops, recorded with its seed, and its
// audit-log event, in one transaction.
// Errors: CodeForbidden (role, another county), CodeInvalid (cycle, sizes,
// roads, seed, auditor, note, an empty sample), CodeCycleClosed.
func (s *Service) DrawSpotCheck(ctx context.Context, a Actor, in SpotCheckInput) (SpotCheckView, error) {
	if a.Role != RoleCountyAdmin || in.CountyID != a.CountyID {
		return SpotCheckView{}, errForbidden
	}
	now := s.now()
	cycle, err := s.spotCheckCycle(in.Cycle, now)
	if err != nil {
		return SpotCheckView{}, err
	}
	f := fieldErrors{}
	if in.Size < 0 || in.Size > MaxSpotCheckSize {
		f.add("size", fmt.Sprintf("每条道路抽查 0 到 %d 家", MaxSpotCheckSize))
	}
	for road, n := range in.RoadSizes {
		if n < 0 || n > MaxSpotCheckSize {
			f.add("road_sizes."+strconv.FormatInt(road, 10), fmt.Sprintf("每条道路抽查 0 到 %d 家", MaxSpotCheckSize))
		}
	}
	seed := int64(0)
	if in.Seed != nil {
		seed = *in.Seed
		if seed < 1 || seed > MaxSpotCheckSeed {
			f.add("seed", "种子应为 1 到 999999999999 之间的整数，留空则随机生成")
		}
	} else {
		n, err := rand.Int(rand.Reader, big.NewInt(MaxSpotCheckSeed))
		if err != nil {
			return SpotCheckView{}, err
		}
		seed = n.Int64() + 1
	}
	note := f.text("note", in.Note, false, 500)
	roads, _, err := s.db.ListRoads(ctx, models.RoadFilter{CountyIDs: []int64{in.CountyID}, Limit: -1})
	if err != nil {
		return SpotCheckView{}, err
	}
	for road := range in.RoadSizes {
		if !slices.ContainsFunc(roads, func(r models.Road) bool { return r.ID == road }) {
			f.add("road_sizes."+strconv.FormatInt(road, 10), "本区县没有这条道路")
		}
	}
	if err := s.checkAuditor(ctx, in.CountyID, in.AuditorID); err != nil {
		f.add("auditor_id", err.Error())
	}
	if err := f.err(); err != nil {
		return SpotCheckView{}, err
	}
	population, err := s.db.DrawPopulation(ctx, in.CountyID)
	if err != nil {
		return SpotCheckView{}, err
	}
	byRoad := map[int64][]int64{}
	for _, m := range population {
		byRoad[m.RoadID] = append(byRoad[m.RoadID], m.ID)
	}
	var draw []drawRoad
	var sample []models.SpotCheckShop
	for _, r := range roads { // by id
		size, ok := in.RoadSizes[r.ID]
		if !ok {
			size = in.Size
		}
		if size == 0 {
			continue
		}
		ids := byRoad[r.ID]
		draw = append(draw, drawRoad{RoadID: r.ID, Size: size, Population: len(ids)})
		for i, id := range SampleShops(seed, r.ID, ids, size) {
			sample = append(sample, models.SpotCheckShop{MerchantID: id, CountyID: in.CountyID, RoadID: r.ID, DrawOrder: i + 1})
		}
	}
	if len(sample) == 0 {
		return SpotCheckView{}, Invalid(map[string]string{"size": "没有抽到任何商户：请至少为一条有在营商户的道路填写抽查数量"})
	}
	encoded, err := json.Marshal(draw)
	if err != nil {
		return SpotCheckView{}, err
	}
	audit := models.SpotCheck{CountyID: in.CountyID, Cycle: cycle.String(), Seed: seed, Algorithm: SpotCheckAlgorithm,
		Draw: string(encoded), AuditorID: in.AuditorID, Note: note, CreatedBy: a.UserID, CreatedAt: now.Truncate(time.Millisecond)}
	names, err := s.userNames(ctx, []int64{in.AuditorID})
	if err != nil {
		return SpotCheckView{}, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.CreateSpotCheck(ctx, &audit, sample); err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditSpotCheckDraw, objectType: AuditObjectSpotCheck, objectID: audit.ID,
			countyID: &audit.CountyID,
			summary:  fmt.Sprintf("抽查 %s：%d 条道路 %d 家商户，种子 %d", audit.Cycle, len(draw), len(sample), seed),
			after: map[string]any{"cycle": audit.Cycle, "seed": strconv.FormatInt(seed, 10), "shops": len(sample),
				"roads": len(draw), "auditor": names[in.AuditorID], "note": note}})
	})
	if err != nil {
		return SpotCheckView{}, err
	}
	return s.SpotCheck(ctx, a, audit.ID)
}

// spotCheckCycle is the cycle a draw is for: the current one by default, or
// the previous one while its grace period lasts.
func (s *Service) spotCheckCycle(text string, now time.Time) (policy.Cycle, error) {
	cur := s.policy.CycleOf(now)
	if text == "" {
		return cur, nil
	}
	c, err := policy.ParseCycle(text)
	switch {
	case err != nil:
		return policy.Cycle{}, Invalid(map[string]string{"cycle": "格式应为 YYYY-MM"})
	case cur.Before(c):
		return policy.Cycle{}, Invalid(map[string]string{"cycle": "不能抽查尚未开始的月份"})
	case s.policy.IsClosed(c, now):
		return policy.Cycle{}, Errorf(CodeCycleClosed, "%s 考核周期已结束，不能再抽查", c)
	}
	return c, nil
}

// checkAuditor says why user id cannot audit the county ("" error: it can).
func (s *Service) checkAuditor(ctx context.Context, countyID, id int64) error {
	u, err := s.db.UserByID(ctx, id)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	if err != nil || u.Disabled || u.CountyID == nil || *u.CountyID != countyID ||
		(u.Role != RoleAuditor && u.Role != RoleCountyAdmin) {
		return errors.New("请选择本区县在用的抽查员或区县管理员")
	}
	return nil
}

// SpotCheckFilter narrows SpotChecks.
type SpotCheckFilter struct {
	CountyID int64 // 0: the actor's county (every county for the city admin)
	Paging
}

// SpotChecks lists audits, newest first: an auditor its own, a county admin
// its county's, the city admin any county's or all.
// Errors: CodeForbidden (officers, merchants, another county), CodeInvalid (paging).
func (s *Service) SpotChecks(ctx context.Context, a Actor, f SpotCheckFilter) ([]models.SpotCheckLine, int64, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleAuditor) {
		return nil, 0, errForbidden
	}
	p, err := f.Paging.check()
	if err != nil {
		return nil, 0, err
	}
	q := models.SpotCheckFilter{Limit: p.Limit, Offset: p.Offset}
	switch {
	case a.Role == RoleAuditor:
		if f.CountyID != 0 && f.CountyID != a.CountyID {
			return nil, 0, errForbidden
		}
		q.CountyIDs, q.AuditorID = []int64{a.CountyID}, a.UserID
	case f.CountyID != 0:
		if !a.InCounty(f.CountyID) {
			return nil, 0, errForbidden
		}
		q.CountyIDs = []int64{f.CountyID}
	default:
		q.CountyIDs = a.countyScope()
	}
	return s.db.ListSpotChecks(ctx, q)
}

// spotCheckOf returns an audit the actor may see: its county's admins and
// the city admin, and its own auditor. Anything else is CodeNotFound
// (CodeForbidden for roles that never see audits).
func (s *Service) spotCheckOf(ctx context.Context, a Actor, id int64) (models.SpotCheck, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleAuditor) {
		return models.SpotCheck{}, errForbidden
	}
	au, err := s.db.SpotCheckByID(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return models.SpotCheck{}, errNotFound
	}
	if err != nil {
		return models.SpotCheck{}, err
	}
	visible := a.InCounty(au.CountyID)
	if a.Role == RoleAuditor {
		visible = au.AuditorID == a.UserID && au.CountyID == a.CountyID
	}
	if !visible {
		return models.SpotCheck{}, errNotFound
	}
	return au, nil
}

// SpotCheck returns an audit with its sample by road (admins of its county,
// the city admin, its auditor). It shows what the auditor recorded, never a
// shop's score, star or inspections.
func (s *Service) SpotCheck(ctx context.Context, a Actor, id int64) (SpotCheckView, error) {
	au, err := s.spotCheckOf(ctx, a, id)
	if err != nil {
		return SpotCheckView{}, err
	}
	shops, err := s.db.SpotCheckSample(ctx, id, 0)
	if err != nil {
		return SpotCheckView{}, err
	}
	records, err := s.db.SpotCheckRecordsOf(ctx, id, 0)
	if err != nil {
		return SpotCheckView{}, err
	}
	county, err := s.db.CountyByID(ctx, au.CountyID)
	if err != nil {
		return SpotCheckView{}, err
	}
	names, err := s.userNames(ctx, []int64{au.AuditorID})
	if err != nil {
		return SpotCheckView{}, err
	}
	var draw []drawRoad
	if err := json.Unmarshal([]byte(au.Draw), &draw); err != nil {
		return SpotCheckView{}, fmt.Errorf("audit %d: draw: %w", id, err)
	}
	c, _ := policy.ParseCycle(au.Cycle)
	out := SpotCheckView{SpotCheck: au, CountyName: county.Name, Auditor: names[au.AuditorID], Shops: len(shops),
		Open: !s.policy.IsClosed(c, s.now())}
	byShop := map[int64][]models.SpotCheckRecord{}
	for _, r := range records {
		byShop[r.MerchantID] = append(byShop[r.MerchantID], r)
	}
	at := map[int64]int{}
	for _, d := range draw {
		at[d.RoadID] = len(out.Roads)
		out.Roads = append(out.Roads, SpotCheckRoad{RoadID: d.RoadID, Size: d.Size, Population: d.Population})
	}
	for _, sh := range shops {
		i, ok := at[sh.RoadID]
		if !ok {
			return SpotCheckView{}, fmt.Errorf("audit %d: shop %d of road %d outside the draw", id, sh.MerchantID, sh.RoadID)
		}
		r := &out.Roads[i]
		r.RoadName = sh.RoadName
		r.Shops = append(r.Shops, SpotCheckShopView{SpotCheckShopLine: sh, Records: byShop[sh.MerchantID]})
		if sh.VisitedAt != nil {
			out.Visited++
		}
	}
	if slices.ContainsFunc(out.Roads, func(r SpotCheckRoad) bool { return r.RoadName == "" }) {
		// A road whose whole population was empty: name it all the same.
		for i := range out.Roads {
			if out.Roads[i].RoadName == "" {
				rd, err := s.db.RoadByID(ctx, out.Roads[i].RoadID)
				if err != nil {
					return SpotCheckView{}, err
				}
				out.Roads[i].RoadName = rd.Name
			}
		}
	}
	return out, nil
}

// SpotCheckShopOf returns one sampled shop of an audit with its records, as
// SpotCheck shows it.
func (s *Service) SpotCheckShopOf(ctx context.Context, a Actor, auditID, merchantID int64) (SpotCheckView, SpotCheckShopView, error) {
	sc, err := s.SpotCheck(ctx, a, auditID)
	if err != nil {
		return SpotCheckView{}, SpotCheckShopView{}, err
	}
	for _, r := range sc.Roads {
		for _, sh := range r.Shops {
			if sh.MerchantID == merchantID {
				return sc, sh, nil
			}
		}
	}
	return SpotCheckView{}, SpotCheckShopView{}, errNotFound
}

// SpotCheckVisit is what the auditor found at a sampled shop: deduction
// items of the catalogue with their points (none: nothing wrong), and a note.
type SpotCheckVisit struct {
	Items []InspectionItem
	Note  string
}

// RecordSpotCheck records the auditor's visit of a sampled shop, once. Only
// the audit's own auditor records, while the cycle's grace period lasts.
// The records are kept apart from the score: no ledger entry, no points.
// Errors: CodeForbidden (role), CodeNotFound (audit or shop not visible,
// not in the sample), CodeInvalid (items, points, notes), CodeCycleClosed,
// CodeConflict (visited already).
func (s *Service) RecordSpotCheck(ctx context.Context, a Actor, auditID, merchantID int64, in SpotCheckVisit) (SpotCheckShopView, error) {
	if !a.can(RoleAuditor, RoleCountyAdmin) {
		return SpotCheckShopView{}, errForbidden
	}
	au, err := s.spotCheckOf(ctx, a, auditID)
	if err != nil {
		return SpotCheckShopView{}, err
	}
	if au.AuditorID != a.UserID {
		return SpotCheckShopView{}, Errorf(CodeForbidden, "只有本次抽查指定的抽查员可以记录")
	}
	if _, err := s.db.SpotCheckSample(ctx, auditID, merchantID); err != nil {
		return SpotCheckShopView{}, storeErr(err, "")
	}
	now := s.now().Truncate(time.Millisecond)
	f := fieldErrors{}
	note := f.text("note", in.Note, false, 500)
	if len(in.Items) > maxItems {
		f.add("items", fmt.Sprintf("最多 %d 项", maxItems))
	}
	items := s.checkItems(f, in.Items, "重复的事项", func(rule policy.Item) string {
		if rule.Kind != policy.Deduction {
			return "抽查只记录发现的问题（扣分事项）"
		}
		return ""
	})
	records := make([]models.SpotCheckRecord, 0, len(items))
	for _, it := range items {
		records = append(records, models.SpotCheckRecord{AuditID: auditID, MerchantID: merchantID, CountyID: au.CountyID,
			RuleCode: it.rule.Code, Points: it.points, Note: it.note, RecordedBy: a.UserID, RecordedAt: now})
	}
	if err := f.err(); err != nil {
		return SpotCheckShopView{}, err
	}
	if c, _ := policy.ParseCycle(au.Cycle); s.policy.IsClosed(c, now) {
		return SpotCheckShopView{}, Errorf(CodeCycleClosed, "%s 考核周期已结束，不能再记录抽查", au.Cycle)
	}
	err = s.db.RecordSpotCheckVisit(ctx, auditID, merchantID, a.UserID, now, note, records)
	if errors.Is(err, models.ErrNotFound) {
		return SpotCheckShopView{}, Errorf(CodeConflict, "这家商户已经抽查过了")
	}
	if err != nil {
		return SpotCheckShopView{}, err
	}
	_, sh, err := s.SpotCheckShopOf(ctx, a, auditID, merchantID)
	return sh, err
}

// OfficerAgreement is how far one officer's inspections agree with the
// auditors' findings on the same shops in the same cycles (AuditAgreement).
type OfficerAgreement struct {
	OfficerID int64
	Officer   string // display name, else username
	// Shops counts the (shop, cycle) pairs compared: shops an audit of the
	// cycle visited that the officer also inspected in that cycle.
	Shops int
	// ItemPairs counts the (shop, cycle, item) pairs either side recorded;
	// Agreed those both recorded, OfficerOnly and AuditorOnly the rest.
	ItemPairs, Agreed, OfficerOnly, AuditorOnly int
	// Agreement is Agreed / ItemPairs: the share of recorded items on which
	// both agree the problem was there; 1 when neither recorded any item.
	Agreement float64
	// Kappa is Cohen's kappa over every (shop, cycle, deduction item of the
	// catalogue) pair, present or absent for each side, so agreeing that an
	// item was absent counts too and chance agreement is taken out; nil
	// when undefined (chance agreement 1: neither side recorded anything).
	Kappa *float64
	// OfficerPoints and AuditorPoints sum the deduction points each side
	// recorded on the compared shops; PointsDiff is their difference per
	// shop, (OfficerPoints − AuditorPoints) / Shops: positive when the
	// officer deducts more than the auditor finds.
	OfficerPoints, AuditorPoints int
	PointsDiff                   float64
}

// maxAgreementCycles bounds the range of AuditAgreement.
const maxAgreementCycles = 36

// AuditAgreement compares each officer of a county with its random audits
// over the cycles fromCycle..toCycle ("YYYY-MM", inclusive): for every shop
// an audit of a cycle visited, each officer who inspected it in that cycle
// is compared with the auditor on that (shop, cycle). An officer's side is
// every deduction item its inspections of the shop recorded in the cycle,
// as recorded (a later reversal or accepted appeal does not change what the
// officer found) and its points summed; the auditor's side is every item
// its visits recorded. An inspection or visit that found no deduction item
// still counts: it says every item was absent. Officers with no compared
// shop are left out; the rest come by officer id.
//
// The county's admins and the city admin may ask (the fairness report's
// readers). Errors: CodeForbidden (other roles, another county),
// CodeNotFound (no such county), CodeInvalid (cycles not YYYY-MM, from after
// to, more than 36 cycles).
func (s *Service) AuditAgreement(ctx context.Context, a Actor, countyID int64, fromCycle, toCycle string) ([]OfficerAgreement, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) || !a.InCounty(countyID) {
		return nil, errForbidden
	}
	f := fieldErrors{}
	from, err := policy.ParseCycle(fromCycle)
	if err != nil {
		f.add("from", "格式应为 YYYY-MM")
	}
	to, err2 := policy.ParseCycle(toCycle)
	if err2 != nil {
		f.add("to", "格式应为 YYYY-MM")
	}
	if err == nil && err2 == nil {
		switch {
		case to.Before(from):
			f.add("to", "结束月份早于开始月份")
		case to.Index()-from.Index() >= maxAgreementCycles:
			f.add("from", fmt.Sprintf("最多比较 %d 个月", maxAgreementCycles))
		}
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := s.db.CountyByID(ctx, countyID); err != nil {
		return nil, storeErr(err, "区县")
	}
	audited, err := s.db.SpotCheckFindings(ctx, countyID, from.String(), to.String())
	if err != nil {
		return nil, err
	}
	if len(audited) == 0 {
		return []OfficerAgreement{}, nil
	}
	var shops []int64
	for _, x := range audited {
		shops = append(shops, x.MerchantID)
	}
	inspected, err := s.db.InspectionFindings(ctx, uniqueIDs(shops), from.String(), to.String())
	if err != nil {
		return nil, err
	}
	out := agreements(audited, inspected, s.deductionItems())
	ids := make([]int64, len(out))
	for i, o := range out {
		ids[i] = o.OfficerID
	}
	names, err := s.userNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Officer = names[out[i].OfficerID]
	}
	return out, nil
}

// deductionItems counts the catalogue's deduction items: the pairs per shop
// Cohen's kappa is taken over.
func (s *Service) deductionItems() int {
	n := 0
	for _, it := range s.policy.Items {
		if it.Kind == policy.Deduction {
			n++
		}
	}
	return n
}

// shopCycle names one shop in one cycle.
type shopCycle struct {
	cycle    string
	merchant int64
}

// findingSet is one side's findings on a shop in a cycle.
type findingSet struct {
	items  map[string]bool
	points int
}

func (fs *findingSet) add(x models.Finding) {
	if x.RuleCode != "" {
		fs.items[x.RuleCode] = true
		fs.points += x.Points
	}
}

// agreements computes AuditAgreement's figures from the auditors' and the
// officers' findings, items being the catalogue's number of deduction items.
func agreements(audited, inspected []models.Finding, items int) []OfficerAgreement {
	auditor := map[shopCycle]*findingSet{}
	for _, x := range audited {
		k := shopCycle{x.Cycle, x.MerchantID}
		if auditor[k] == nil {
			auditor[k] = &findingSet{items: map[string]bool{}}
		}
		auditor[k].add(x)
	}
	type officerShop struct {
		officer int64
		shopCycle
	}
	officers := map[officerShop]*findingSet{}
	for _, x := range inspected {
		k := officerShop{x.OfficerID, shopCycle{x.Cycle, x.MerchantID}}
		if auditor[k.shopCycle] == nil {
			continue
		}
		if officers[k] == nil {
			officers[k] = &findingSet{items: map[string]bool{}}
		}
		officers[k].add(x)
	}
	by := map[int64]*OfficerAgreement{}
	for k, off := range officers {
		o := by[k.officer]
		if o == nil {
			o = &OfficerAgreement{OfficerID: k.officer}
			by[k.officer] = o
		}
		aud := auditor[k.shopCycle]
		o.Shops++
		o.OfficerPoints += off.points
		o.AuditorPoints += aud.points
		for code := range off.items {
			if aud.items[code] {
				o.Agreed++
			} else {
				o.OfficerOnly++
			}
		}
		for code := range aud.items {
			if !off.items[code] {
				o.AuditorOnly++
			}
		}
	}
	out := make([]OfficerAgreement, 0, len(by))
	for _, o := range by {
		o.ItemPairs = o.Agreed + o.OfficerOnly + o.AuditorOnly
		o.Agreement = 1
		if o.ItemPairs > 0 {
			o.Agreement = float64(o.Agreed) / float64(o.ItemPairs)
		}
		o.PointsDiff = float64(o.OfficerPoints-o.AuditorPoints) / float64(o.Shops)
		o.Kappa = cohensKappa(o.Agreed, o.OfficerOnly, o.AuditorOnly, o.Shops*items)
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OfficerID < out[j].OfficerID })
	return out
}

// cohensKappa is Cohen's kappa of a 2×2 table of total pairs: both present,
// only the first, only the second, the rest both absent. nil when chance
// agreement is 1 (undefined).
func cohensKappa(both, firstOnly, secondOnly, total int) *float64 {
	if total <= 0 {
		return nil
	}
	t := float64(total)
	absent := t - float64(both+firstOnly+secondOnly)
	observed := (float64(both) + absent) / t
	p1, p2 := float64(both+firstOnly)/t, float64(both+secondOnly)/t
	chance := p1*p2 + (1-p1)*(1-p2)
	if chance >= 1 {
		return nil
	}
	k := (observed - chance) / (1 - chance)
	return &k
}
