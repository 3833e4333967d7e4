package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// TestConsoleWorkBrowser: a county admin at a 1366×768 desktop imports a
// register with one bad row, uploads the corrected file and commits (the
// created shops are in the database); decides an appeal with both sides'
// photos loaded (the score moves as the database says); and downloads the
// 红黑榜's CSV through the page's link (its rows are CountyBulletin's).
func TestConsoleWorkBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	entry := e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 4)
	appeal, merchantPhoto := e.fileAppeal(w.Shop[0], entry, "垃圾是路人丢的，我们随即清理了", 9100)
	e.record(w.Officer[0], w.Other[0], "ZXLH-05", 10) // a serious item: the black list
	evidence, err := e.svc.LedgerEntryOf(ctx, w.Admin[0], w.Merchant[0], entry)
	if err != nil || len(evidence.Photos) != 1 {
		t.Fatalf("the entry's evidence: %v %v", evidence.Photos, err)
	}
	// The pages and the API on one server, as serve routes them (the
	// bulletin's downloads are the API's).
	b := e.chrome(t, through(e.pagesWithAPI()))
	b.viewport(1366, 768)
	b.login(w.AdminName[0], password)
	b.at("/console")

	// Import: the register has a road that does not exist.
	dir := t.TempDir()
	badFile, goodFile := filepath.Join(dir, "商户名册.csv"), filepath.Join(dir, "商户名册（已改）.csv")
	os.WriteFile(badFile, registerCSV(registerRow("王记包子铺", "柳泉路", uscc(100)), registerRow("赵家水果店", "不存在路", uscc(101))), 0o644)
	os.WriteFile(goodFile, registerCSV(registerRow("王记包子铺", "柳泉路", uscc(100)), registerRow("赵家水果店", "柳泉路", uscc(101))), 0o644)
	before := e.countyShops(w.County[0])
	b.click("批量导入")
	b.at("/console/import")
	upload := func(path string) {
		t.Helper()
		b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}))
		b.click("上传并检查")
		b.until("the dry run", `!!document.getElementById('dry-run') && document.getElementById('dry-run').innerText.includes(`+jsString(filepath.Base(path))+`)`)
	}
	upload(badFile)
	if !eval[bool](b, `document.getElementById('row-3').classList.contains('bad')`) ||
		!strings.Contains(b.within("#row-3"), `道路：本区县没有名为 "不存在路" 的道路`) {
		t.Errorf("the bad row is not highlighted with its reason: %s", b.within("#row-3"))
	}
	if eval[bool](b, `!!document.getElementById('commit')`) || b.within("#bad-rows") != "1" {
		t.Errorf("a register with a bad row offers a commit, or does not count it")
	}
	b.screenshot("console-import-dry-run")
	if got := e.countyShops(w.County[0]); !slices.Equal(got, before) {
		t.Errorf("the dry run stored %v", got)
	}
	upload(goodFile)
	b.click("确认导入 2 家商户")
	b.at("/console/import/commit")
	b.shows("已新建 2 家商户")
	want := slices.Sorted(slices.Values(append(slices.Clone(before), "王记包子铺", "赵家水果店")))
	if got := e.countyShops(w.County[0]); !slices.Equal(got, want) {
		t.Errorf("after the commit the county has %v, want %v", got, want)
	}
	created := eval[[]string](b, `[...document.querySelectorAll('#created tbody tr')].map(r => r.cells[1].innerText + '|' + r.cells[2].innerText)`)
	for _, line := range created {
		name, code, _ := strings.Cut(line, "|")
		ms, _, err := e.svc.Merchants(ctx, w.Admin[0], service.MerchantFilter{CountyID: w.County[0], Query: code})
		if err != nil || len(ms) != 1 || ms[0].Name != name {
			t.Errorf("created line %q: the database has %v", line, ms)
		}
	}
	if len(created) != 2 {
		t.Errorf("the result lists %v", created)
	}
	b.screenshot("console-import-result")

	// The appeal: both sides' photos load; accepting reverses the deduction.
	b.click("申诉审核")
	b.at("/console/appeals")
	card := fmt.Sprintf("#appeal-%d", appeal)
	b.until("both sides' photos", `(() => { const imgs = [...document.querySelectorAll(`+jsString(card+" img")+`)];
		return imgs.length === 2 && imgs.every(i => i.complete && i.naturalWidth > 0); })()`)
	srcs := eval[[]string](b, `[...document.querySelectorAll(`+jsString(card+" img")+`)].map(i => new URL(i.src).pathname)`)
	if wantSrcs := []string{fmt.Sprintf("/photos/%d", evidence.Photos[0]), fmt.Sprintf("/photos/%d", merchantPhoto)}; !slices.Equal(srcs, wantSrcs) {
		t.Errorf("the card's photos %v, want the officer's and the merchant's %v", srcs, wantSrcs)
	}
	if text := b.within(card); !strings.Contains(text, "王巡查张店区") || !strings.Contains(text, "−4 分") || !strings.Contains(text, "垃圾是路人丢的") {
		t.Errorf("the card lacks the officer, the points or the reason: %s", text)
	}
	b.screenshot("console-appeals")
	scoreBefore := e.liveScore(w.Admin[0], w.Merchant[0])
	b.click("申诉成立，冲正扣分")
	b.shows("申诉成立，扣分已冲正")
	if after := e.liveScore(w.Admin[0], w.Merchant[0]); scoreBefore != 96 || after != 100 {
		t.Errorf("the score moved %d → %d, want 96 → 100", scoreBefore, after)
	}
	var status string
	if err := e.db.SQL().QueryRow("SELECT status FROM appeals WHERE id = ?", appeal).Scan(&status); err != nil || status != "accepted" {
		t.Errorf("the appeal is %q in the database (%v)", status, err)
	}

	// The bulletin: the CSV behind the page's link is the service's bulletin.
	b.click("红黑榜")
	b.at("/console/bulletins")
	b.until("the red list", `!!document.getElementById('red')`)
	b.screenshot("console-bulletin")
	bul, err := e.svc.CountyBulletin(ctx, w.Admin[0], w.County[0], e.svc.CurrentCycle())
	if err != nil {
		t.Fatal(err)
	}
	body := eval[string](b, `fetch(document.querySelector('#downloads a[href*="format=csv"]').href).then(r => r.ok ? r.text() : 'HTTP ' + r.status)`)
	sections := bulletinCSVSections(t, body)
	red := sections["红榜"]
	if len(bul.Red) == 0 || len(red) != len(bul.Red) {
		t.Fatalf("the CSV's red list has %d lines, the service %d: %q", len(red), len(bul.Red), body)
	}
	for i, m := range bul.Red {
		want := []string{strconv.Itoa(m.Rank), m.Code, m.Name, m.Road, strconv.Itoa(m.Score), strconv.Itoa(m.RatedStar),
			strconv.Itoa(m.Deductions), strconv.Itoa(m.Bonuses), strconv.Itoa(m.Serious)}
		if !slices.Equal(red[i], want) {
			t.Errorf("CSV red line %d: %v, want %v", i+1, red[i], want)
		}
	}
	black := sections["黑榜"]
	if len(bul.Black) == 0 || len(black) != len(bul.Black) || len(sections["道路排名"]) != len(bul.Roads) {
		t.Fatalf("the CSV has %d black and %d road lines, the service %d and %d", len(black), len(sections["道路排名"]), len(bul.Black), len(bul.Roads))
	}
	for i, m := range bul.Black {
		want := []string{strconv.Itoa(m.Rank), m.Code, m.Name, m.Road, strconv.Itoa(m.Score), strconv.Itoa(m.RatedStar),
			strconv.Itoa(m.Deductions), strconv.Itoa(m.Bonuses), strconv.Itoa(m.Serious)}
		if !slices.Equal(black[i][:9], want) {
			t.Errorf("CSV black line %d: %v, want %v", i+1, black[i], want)
		}
	}
	for i, r := range bul.Roads {
		if got := sections["道路排名"][i]; got[1] != r.Name || got[2] != strconv.FormatFloat(r.Score, 'f', -1, 64) {
			t.Errorf("CSV road line %d: %v, want %s %v", i+1, got, r.Name, r.Score)
		}
	}
	names := eval[[]string](b, `[...document.querySelectorAll('#red tbody tr')].map(r => r.cells[1].innerText)`)
	for i, m := range bul.Red {
		if i >= len(names) || names[i] != m.Name {
			t.Errorf("the page's red list %v, the service's line %d is %s", names, i+1, m.Name)
		}
	}
	// On paper: the navigation, the pickers and the downloads are left out;
	// the title, the provisional mark and the lists stay.
	b.do(chromedp.Action[chromedp.Void](func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return chromedp.Void{}, err
	}))
	shown := eval[map[string]bool](b, `Object.fromEntries(['nav.side', '#pick', '#downloads', 'header.bar h1', '#provisional', '#red', '#black', '#road-ranking']
		.map(s => [s, getComputedStyle(document.querySelector(s)).display !== 'none']))`)
	for sel, want := range map[string]bool{"nav.side": false, "#pick": false, "#downloads": false, "header.bar h1": true, "#provisional": true,
		"#red": true, "#black": true, "#road-ranking": true} {
		if shown[sel] != want {
			t.Errorf("printed, %s shown %v, want %v", sel, shown[sel], want)
		}
	}
	b.screenshot("console-bulletin-print")
	b.noScriptErrors()
}

// bulletinCSVSections splits the bulletin's CSV into its tables' rows by title
// (【红榜】 and so on), without the header rows.
func bulletinCSVSections(t *testing.T, body string) map[string][][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(body), []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the bulletin's CSV: %v: %q", err, body)
	}
	out := map[string][][]string{}
	var title string
	header := false
	for _, rec := range recs {
		switch {
		case len(rec) == 1 && strings.HasPrefix(rec[0], "【"):
			title, header = strings.Trim(rec[0], "【】"), true
		case len(rec) == 0 || (len(rec) == 1 && rec[0] == ""):
		case header:
			header = false
		default:
			out[title] = append(out[title], rec)
		}
	}
	return out
}
