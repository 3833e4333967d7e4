package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// entryLine is a ledger entry as the merchant reads it.
type entryLine struct {
	service.LedgerView
	Deduction      bool
	CanAppeal      bool
	AppealDeadline time.Time
	Repair         string // how the deduction can be repaired (信用修复), served with it
}

// entryLines orders a cycle's entries newest first and marks which the
// merchant may still appeal (the service decides again when it is filed).
func (p *Pages) entryLines(vs []service.LedgerView) []entryLine {
	now := p.svc.Now()
	out := make([]entryLine, len(vs))
	for i, v := range vs {
		l := entryLine{LedgerView: v, Deduction: v.Kind == models.KindDeduction, Repair: p.svc.RepairNotice(v.LedgerEntry)}
		if l.Deduction && v.ReversedBy == nil && v.Appeal == nil {
			l.AppealDeadline = p.svc.AppealDeadline(v.LedgerEntry)
			l.CanAppeal = now.Before(l.AppealDeadline)
		}
		out[i] = l
	}
	slices.Reverse(out)
	return out
}

// merchantHome is the 商户端 home: the rated star, this month's score and
// entries, ranks, and how to get the star back.
func (p *Pages) merchantHome(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	f, err := p.svc.MerchantFileOf(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	outlook, res, err := p.svc.MerchantOutlook(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	entries, _, err := p.svc.Ledger(ctx, a, a.MerchantID, "")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	rank, err := p.svc.MerchantRanks(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pol := p.svc.Policy()
	v := view{"Tab": "home", "F": f, "R": res, "O": outlook, "Rank": rank, "Entries": p.entryLines(entries),
		"Review": pol.CycleStart(outlook.Review), "BonusCap": pol.BonusCap, "Closed": f.Status != "active",
		// Bonuses beyond the cap count for nothing: what this month can still add.
		"BonusRoom": max(0, pol.BonusCap-max(0, res.Bonuses)), "LiveHolds": slices.Contains(outlook.Holding, policy.TermLive)}
	if outlook.NextStar > 0 {
		v["NextThreshold"] = pol.StarThresholds[len(pol.StarThresholds)-outlook.NextStar]
	}
	p.render(w, r, http.StatusOK, "merchant_home.html", v)
}

// shopsPerPage is the console's shop list page size.
const shopsPerPage = 20

// shopLine is a shop as the console lists it: with its road and its standing now.
type shopLine struct {
	models.Merchant
	RoadName string
	R        policy.Result
}

// shopPage lists one page of shops with their standing now, named on roads
// (the roads of the shops, or some of them; others are looked up).
func (p *Pages) shopPage(ctx context.Context, a service.Actor, f service.MerchantFilter, roads []service.RoadView) ([]shopLine, int64, error) {
	ms, total, err := p.svc.Merchants(ctx, a, f)
	if err != nil {
		return nil, 0, err
	}
	st, err := p.svc.CurrentScores(ctx, ms)
	if err != nil {
		return nil, 0, err
	}
	names := make(map[int64]string, len(roads))
	for _, rv := range roads {
		names[rv.ID] = rv.Name
	}
	out := make([]shopLine, len(ms))
	for i, m := range ms {
		if _, ok := names[m.RoadID]; !ok {
			rv, err := p.svc.Road(ctx, a, m.RoadID)
			if err != nil {
				return nil, 0, err
			}
			names[m.RoadID] = rv.Name
		}
		out[i] = shopLine{Merchant: m, RoadName: names[m.RoadID], R: st[m.ID]}
	}
	return out, total, nil
}

// shopSorts are the console's orders of the shop list: key → the service's sort and direction.
var shopSorts = map[string]struct {
	sort string
	desc bool
}{
	"name":      {service.MerchantSortName, false},
	"code":      {service.MerchantSortCode, false},
	"score":     {service.MerchantSortScore, true},
	"score_asc": {service.MerchantSortScore, false},
	"road":      {service.MerchantSortRoad, false},
}

// pageLink is one link of a pager.
type pageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool // "…" between far pages
}

// pageNumbers lays out the links to pages 1..n around the current one.
func pageNumbers(cur, n int, link func(int) string) []pageLink {
	var out []pageLink
	for i := 1; i <= n; i++ {
		if i == 1 || i == n || (i >= cur-3 && i <= cur+3) {
			out = append(out, pageLink{N: i, URL: link(i), Current: i == cur})
		} else if len(out) > 0 && !out[len(out)-1].Gap {
			out = append(out, pageLink{Gap: true})
		}
	}
	return out
}

// consoleShops lists the county's shops: search, filters (road, status,
// rated star, 重点监管), sorting and 20 a page.
func (p *Pages) consoleShops(w http.ResponseWriter, r *http.Request) {
	county, ok := p.consoleCounty(w, r)
	if !ok {
		return
	}
	ctx, a := r.Context(), actorOf(r)
	q := r.URL.Query()
	sortKey := q.Get("sort")
	if sortKey == "" {
		sortKey = "name"
	}
	sorting, ok := shopSorts[sortKey]
	if !ok {
		p.fail(w, r, service.Invalid(map[string]string{"sort": "应为 name、code、score、score_asc 或 road"}))
		return
	}
	f := service.MerchantFilter{CountyID: county.ID, Query: q.Get("q"), Status: q.Get("status"), Watch: q.Get("watch") == "1",
		Sort: sorting.sort, Desc: sorting.desc}
	bad := map[string]string{}
	if s := q.Get("road"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			bad["road_id"] = "道路不存在"
		}
		f.RoadID = n
	}
	if s := q.Get("star"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			bad["star"] = "应为 0 到 5 的整数"
		}
		f.RatedStar = &n
	}
	pageNo := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 50_000 {
			bad["page"] = "页码无效"
		}
		pageNo = n
	}
	if len(bad) > 0 {
		p.fail(w, r, service.Invalid(bad))
		return
	}
	f.Paging = service.Paging{Limit: shopsPerPage, Offset: (pageNo - 1) * shopsPerPage}
	roads, err := p.countyRoads(ctx, a, county.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if f.RoadID != 0 && !slices.ContainsFunc(roads, func(rv service.RoadView) bool { return rv.ID == f.RoadID }) {
		p.fail(w, r, service.Errorf(service.CodeNotFound, "道路不存在"))
		return
	}
	shops, total, err := p.shopPage(ctx, a, f, roads)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pages := int((total + shopsPerPage - 1) / shopsPerPage)
	link := func(n int) string {
		v := url.Values{}
		for _, k := range []string{"county_id", "q", "road", "status", "star", "watch", "sort"} {
			if s := q.Get(k); s != "" {
				v.Set(k, s)
			}
		}
		v.Set("county_id", strconv.FormatInt(county.ID, 10))
		v.Set("page", strconv.Itoa(n))
		return "/console/shops?" + v.Encode()
	}
	v := view{"Console": true, "Tab": "shops", "County": county, "Shops": shops, "Total": total, "Roads": roads,
		"Q": q.Get("q"), "Road": f.RoadID, "Status": f.Status, "Star": q.Get("star"), "Watch": f.Watch, "Sort": sortKey,
		"Page": pageNo, "Pages": pages, "Pager": pageNumbers(pageNo, pages, link), "First": (pageNo-1)*shopsPerPage + 1,
		"Last": (pageNo-1)*shopsPerPage + len(shops), "Stars": []int{5, 4, 3, 2, 1, 0}}
	if pageNo > 1 {
		v["Prev"] = link(pageNo - 1)
	}
	if pageNo < pages {
		v["Next"] = link(pageNo + 1)
	}
	p.render(w, r, http.StatusOK, "console_shops.html", v)
}

// shopForm reads the shop form's fields as the service takes them; numbers
// that are no numbers become values the service refuses with its message.
func shopForm(r *http.Request) (service.MerchantInput, url.Values) {
	in := service.MerchantInput{Name: formText(r, "name"), USCC: formText(r, "uscc"), Category: formText(r, "category"),
		OwnerName: formText(r, "owner_name"), Phone: formText(r, "phone"), Address: formText(r, "address"),
		Lat: formFloat(r, "lat", 999), Lng: formFloat(r, "lng", 999)}
	if s := formValue(r, "road_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			n = -1
		}
		in.RoadID = &n
	}
	form := url.Values{}
	for _, k := range []string{"road_id", "name", "uscc", "category", "owner_name", "phone", "address", "lat", "lng"} {
		form.Set(k, formValue(r, k))
	}
	return in, form
}

// showShopForm is the form of a new shop (shop nil) or of a shop's changes.
func (p *Pages) showShopForm(w http.ResponseWriter, r *http.Request, status int, county models.County, shop *models.Merchant, form url.Values, errs formErrs) {
	roads, err := p.countyRoads(r.Context(), actorOf(r), county.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	field := func(key, label string, max int, mode string) shopField {
		return shopField{Key: key, Label: label, Max: max, Mode: mode, Value: form.Get(key), Err: errs.Fields[key]}
	}
	p.render(w, r, status, "console_shop_form.html", view{"Console": true, "Tab": "shops", "County": county, "Shop": shop,
		"Roads": roads, "Form": form, "Errs": errs,
		"Fields": []shopField{field("name", "商户名称（店招）", 128, ""), field("uscc", "统一社会信用代码（18 位，可不填）", 18, ""),
			field("category", "经营类别（如 餐饮、零售，可不填）", 64, ""), field("owner_name", "负责人（可不填）", 64, ""),
			field("phone", "联系电话（可不填）", 20, "tel"), field("address", "地址（可不填）", 255, "")},
		"Coords": []shopField{field("lat", "纬度（可不填）", 20, "decimal"), field("lng", "经度（可不填）", 20, "decimal")}})
}

// shopField is one text field of the shop form, with its problem.
type shopField struct {
	Key, Label string
	Max        int
	Mode       string // inputmode
	Value, Err string
}

// newShopForm is the form to register a shop (一户一码) in the county.
func (p *Pages) newShopForm(w http.ResponseWriter, r *http.Request) {
	county, ok := p.consoleCounty(w, r)
	if !ok {
		return
	}
	form := url.Values{}
	if s := r.URL.Query().Get("road"); s != "" {
		form.Set("road_id", s)
	}
	p.showShopForm(w, r, http.StatusOK, county, nil, form, noErrs())
}

// createShop registers a shop; a refused one shows the form again with the
// problems beside the fields and nothing stored.
func (p *Pages) createShop(w http.ResponseWriter, r *http.Request) {
	county, ok := p.consoleCounty(w, r)
	if !ok {
		return
	}
	in, form := shopForm(r)
	m, err := p.svc.CreateMerchant(r.Context(), actorOf(r), in)
	if err != nil {
		errs, status, ok := formErrsOf(err, "uscc")
		if !ok {
			p.fail(w, r, err)
			return
		}
		p.showShopForm(w, r, status, county, nil, form, errs)
		return
	}
	http.Redirect(w, r, "/console/shops/"+strconv.FormatInt(m.ID, 10)+"?created=1", http.StatusSeeOther)
}

// consoleShopMerchant reads the shop of the path.
func (p *Pages) consoleShopMerchant(r *http.Request) (models.Merchant, models.County, error) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		return models.Merchant{}, models.County{}, err
	}
	m, err := p.svc.Merchant(ctx, a, id)
	if err != nil {
		return m, models.County{}, err
	}
	c, err := p.svc.County(ctx, a, m.CountyID)
	return m, c, err
}

// editShopForm is the form of a shop's changes.
func (p *Pages) editShopForm(w http.ResponseWriter, r *http.Request) {
	m, county, err := p.consoleShopMerchant(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	form := url.Values{"road_id": {strconv.FormatInt(m.RoadID, 10)}, "name": {m.Name}, "category": {m.Category},
		"owner_name": {m.OwnerName}, "phone": {m.Phone}, "address": {m.Address}}
	if m.USCC != nil {
		form.Set("uscc", *m.USCC)
	}
	if m.Lat != nil {
		form.Set("lat", strconv.FormatFloat(*m.Lat, 'f', -1, 64))
	}
	if m.Lng != nil {
		form.Set("lng", strconv.FormatFloat(*m.Lng, 'f', -1, 64))
	}
	p.showShopForm(w, r, http.StatusOK, county, &m, form, noErrs())
}

// updateShop stores a shop's changes; a refused change shows the form again
// with the problems beside the fields and nothing stored.
func (p *Pages) updateShop(w http.ResponseWriter, r *http.Request) {
	m, county, err := p.consoleShopMerchant(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	in, form := shopForm(r)
	if _, err := p.svc.UpdateMerchant(r.Context(), actorOf(r), m.ID, in); err != nil {
		errs, status, ok := formErrsOf(err, "uscc")
		if !ok {
			p.fail(w, r, err)
			return
		}
		p.showShopForm(w, r, status, county, &m, form, errs)
		return
	}
	http.Redirect(w, r, "/console/shops/"+strconv.FormatInt(m.ID, 10)+"?saved=1", http.StatusSeeOther)
}

// shopAppeal is an appeal with the deduction it contests.
type shopAppeal struct {
	models.Appeal
	Entry service.LedgerView
}

// consoleShop is a shop's file: every field, the score and rated star now,
// a month's ledger (this month unless ?cycle=) with links to the others,
// notices, appeals, the plaque, and the actions (edit, reissue, close/reopen).
func (p *Pages) consoleShop(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	m, county, err := p.consoleShopMerchant(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	f, err := p.svc.MerchantFileOf(ctx, a, m.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	outlook, now, err := p.svc.MerchantOutlook(ctx, a, m.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	hist, err := p.svc.ScoreHistory(ctx, a, m.ID, historyMonths)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	entries, month, err := p.svc.Ledger(ctx, a, m.ID, r.URL.Query().Get("cycle"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	notices, _, err := p.svc.Notices(ctx, a, m.ID, service.Paging{Limit: service.MaxPage})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	aps, apTotal, err := p.svc.MerchantAppeals(ctx, a, m.ID, service.Paging{Limit: 20})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	appeals := make([]shopAppeal, len(aps))
	for i, ap := range aps {
		e, err := p.svc.LedgerEntryOf(ctx, a, m.ID, ap.EntryID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		appeals[i] = shopAppeal{Appeal: ap, Entry: e}
	}
	certs, err := p.svc.Certificates(ctx, a, m.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	p.render(w, r, http.StatusOK, "console_shop.html", view{"Console": true, "Tab": "shops", "County": county, "F": f,
		"Certificates": certs, "CertificateRevoked": q.Get("revoked") != "",
		"R": now, "O": outlook, "History": hist, "Month": month, "Cycle": month.Cycle, "Entries": p.entryLines(entries),
		"Notices": notices, "Appeals": appeals, "AppealTotal": apTotal, "PlaqueURL": p.svc.PlaqueURL(m),
		"Created": q.Get("created") != "", "Saved": q.Get("saved") != "", "Reissued": q.Get("reissued") != "",
		"StatusChanged": q.Get("status") != ""})
}

// confirmStep is a page that asks before an action takes effect: what will
// happen, an optional box to tick or reason to give, and the button.
type confirmStep struct {
	Tab       string
	Title     string
	Lines     []string
	Action    string            // where the form posts
	Hidden    map[string]string // fields the form carries, besides confirm=1
	Check     string            // the label of a box that must be ticked ("" none)
	Reason    string            // the label of a reason that must be given ("" none)
	ReasonVal string
	Button    string
	Danger    bool
	Back      string // where 取消 goes
	Error     string
}

func (p *Pages) confirm(w http.ResponseWriter, r *http.Request, status int, c confirmStep) {
	p.render(w, r, status, "console_confirm.html", view{"Console": true, "Tab": c.Tab, "C": c})
}

// reissueShopPlaque makes a new plaque for the shop after the admin ticked
// that the old one will stop working; until then nothing changes.
func (p *Pages) reissueShopPlaque(w http.ResponseWriter, r *http.Request) {
	m, _, err := p.consoleShopMerchant(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	id := strconv.FormatInt(m.ID, 10)
	if formValue(r, "confirm") != "1" || formValue(r, "ack") != "yes" {
		c := confirmStep{Tab: "shops", Title: "重新制作门牌：" + m.Name,
			Lines: []string{"将为该商户生成新的门牌二维码（编码 " + m.Code + " 不变）。",
				"旧门牌立即失效：扫描旧门牌将提示“门牌已更换”，请尽快张贴新门牌。"},
			Action: "/console/shops/" + id + "/reissue", Check: "我确认旧门牌将失效", Button: "确认重新制作门牌", Danger: true,
			Back: "/console/shops/" + id + "#plaque"}
		status := http.StatusOK
		if formValue(r, "confirm") == "1" {
			c.Error, status = "请勾选“我确认旧门牌将失效”后再提交", http.StatusBadRequest
		}
		p.confirm(w, r, status, c)
		return
	}
	if _, err := p.svc.ReissuePlaque(r.Context(), actorOf(r), m.ID); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/shops/"+id+"?reissued=1#plaque", http.StatusSeeOther)
}

// setShopStatus closes (注销) or reopens a shop after a confirmation step.
func (p *Pages) setShopStatus(w http.ResponseWriter, r *http.Request) {
	m, _, err := p.consoleShopMerchant(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	id := strconv.FormatInt(m.ID, 10)
	to := formValue(r, "status")
	if to != "active" && to != "closed" {
		p.fail(w, r, service.Invalid(map[string]string{"status": "应为 active 或 closed"}))
		return
	}
	if to == m.Status {
		http.Redirect(w, r, "/console/shops/"+id, http.StatusSeeOther)
		return
	}
	if formValue(r, "confirm") != "1" {
		c := confirmStep{Tab: "shops", Action: "/console/shops/" + id + "/status", Hidden: map[string]string{"status": to},
			Back: "/console/shops/" + id}
		if to == "closed" {
			c.Title, c.Button, c.Danger = "注销商户："+m.Name, "确认注销", true
			c.Lines = []string{"注销后该商户不再参加排名和示范路统计，门牌扫描不再显示该商户。",
				"本月及以前的积分记录保留；需要时可以恢复营业。"}
		} else {
			c.Title, c.Button = "恢复营业："+m.Name, "确认恢复营业"
			c.Lines = []string{"恢复后该商户重新参加排名和示范路统计，原门牌继续有效。"}
		}
		p.confirm(w, r, http.StatusOK, c)
		return
	}
	if _, err := p.svc.UpdateMerchant(r.Context(), actorOf(r), m.ID, service.MerchantInput{Status: &to}); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/shops/"+id+"?status="+to, http.StatusSeeOther)
}
