package web_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// 适老化 (MIIT 2021, 《互联网应用适老化及无障碍改造专题行动方案》) as the design
// asks of the phone pages, and WCAG 2.2 where it is more precise.
const (
	minFontPx     = 18  // body text
	minLineHeight = 1.5 // × the font size
	minTargetPx   = 44  // touch targets, both sides
	minContrast   = 4.5 // text against its background
)

// pageAudit is what auditJS measures in a page.
type pageAudit struct {
	MinFont         float64  `json:"minFont"` // CSS px as drawn (SVG text: times the chart's scale)
	MinFontAt       string   `json:"minFontAt"`
	MinLineHeight   float64  `json:"minLineHeight"` // ratio to the font size
	MinLineHeightAt string   `json:"minLineHeightAt"`
	MinTargetW      float64  `json:"minTargetW"` // the target with the smallest short side
	MinTargetH      float64  `json:"minTargetH"`
	MinTargetAt     string   `json:"minTargetAt"`
	MinContrast     float64  `json:"minContrast"`
	MinContrastAt   string   `json:"minContrastAt"`
	ScrollWidth     float64  `json:"scrollWidth"`
	ViewportWidth   float64  `json:"viewportWidth"`
	HTMLFont        float64  `json:"htmlFont"` // the root font size, px
	Texts           int      `json:"texts"`    // text runs and form controls measured
	Targets         int      `json:"targets"`  // touch targets measured
	Exempt          int      `json:"exempt"`   // links inside a sentence (WCAG 2.5.8's inline exception)
	Problems        []string `json:"problems"`
}

// auditJS measures the page as it is drawn: every visible run of text (text
// nodes, SVG <text>, the values of form controls and their placeholders) for
// its font size, line height and contrast against the background drawn under
// it, every visible touch target for its size, the document's width, and
// that nothing marked hidden shows.
// Thresholds come in as arguments; a problem names the element.
const auditJS = `((minFont, minLH, minTarget, minContrast) => {
  const out = {minFont: 1e9, minFontAt: '', minLineHeight: 1e9, minLineHeightAt: '', minTargetW: 1e9, minTargetH: 1e9,
    minTargetAt: '', minContrast: 1e9, minContrastAt: '', scrollWidth: document.documentElement.scrollWidth,
    viewportWidth: window.innerWidth, htmlFont: parseFloat(getComputedStyle(document.documentElement).fontSize),
    texts: 0, targets: 0, exempt: 0, problems: []};
  const seen = new Set();
  const problem = s => { if (!seen.has(s)) { seen.add(s); out.problems.push(s); } };
  const name = (el, text) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = el.getAttribute('class');
    if (cls) s += '.' + cls.trim().split(/\s+/).join('.');
    const t = (text === undefined ? (el.innerText || el.textContent || el.value || el.getAttribute('aria-label') || '') : text)
      .replace(/\s+/g, ' ').trim();
    return s + (t ? ' "' + (t.length > 24 ? t.slice(0, 24) + '…' : t) + '"' : '');
  };
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';

  // Colours: computed colours are rgb()/rgba(); the background is every
  // background colour from the element up to the first opaque one, laid over
  // the white canvas.
  const rgba = c => {
    const m = /rgba?\(([^)]*)\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    return layers.reduceRight((under, top) => over(top, under), {r: 255, g: 255, b: 255, a: 1});
  };
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (fg, bg) => {
    const a = lum(over(fg, bg)), b = lum(bg);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const hex = c => '#' + [c.r, c.g, c.b].map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
  const contrast = (el, colour, what) => {
    const fg = rgba(colour);
    if (!fg) { problem('colour not measurable (' + colour + '): ' + what); return; }
    const bg = background(el), r = ratio(fg, bg);
    if (r < out.minContrast) { out.minContrast = r; out.minContrastAt = what + ' ' + hex(fg) + ' on ' + hex(bg); }
    if (r < minContrast - 0.005) problem('contrast ' + r.toFixed(2) + ':1 (' + hex(fg) + ' on ' + hex(bg) + '): ' + what);
  };
  const font = (el, what) => {
    const cs = getComputedStyle(el);
    let px = parseFloat(cs.fontSize);
    if (el instanceof SVGElement) { // drawn at the chart's scale
      const m = el.getScreenCTM();
      if (m) px *= Math.hypot(m.a, m.b);
    }
    if (px < out.minFont) { out.minFont = px; out.minFontAt = what; }
    if (px < minFont - 0.01) problem('font ' + px.toFixed(1) + 'px: ' + what);
  };
  const lineHeight = (el, what) => {
    const cs = getComputedStyle(el), fs = parseFloat(cs.fontSize);
    if (cs.lineHeight === 'normal') { problem('line-height normal: ' + what); return; }
    const r = parseFloat(cs.lineHeight) / fs;
    if (r < out.minLineHeight) { out.minLineHeight = r; out.minLineHeightAt = what; }
    if (r < minLH - 0.01) problem('line-height ' + r.toFixed(2) + '×: ' + what);
  };

  // Text.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode()); ) {
    const text = n.textContent.trim(), el = n.parentElement;
    if (!text || !el || el.closest('script, style, title, option, optgroup, noscript, template')) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    if (![...range.getClientRects()].some(r => r.width > 0 && r.height > 0) || getComputedStyle(el).visibility === 'hidden') continue;
    const what = name(el, text);
    out.texts++;
    font(el, what);
    lineHeight(el, what);
    contrast(el, el instanceof SVGElement ? getComputedStyle(el).fill : getComputedStyle(el).color, what);
  }
  // What form controls show: their value, chosen option or placeholder.
  for (const el of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea')) {
    if (!shown(el)) continue;
    const what = name(el, el.labels && el.labels[0] ? el.labels[0].innerText : el.getAttribute('aria-label') || '');
    out.texts++;
    font(el, what);
    contrast(el, getComputedStyle(el).color, what);
    if (el.placeholder && !el.value) contrast(el, getComputedStyle(el, '::placeholder').color, 'placeholder of ' + what);
  }

  // Touch targets. A checkbox in a label is tapped through its label. A link
  // inside a sentence is exempt (WCAG 2.5.8, inline), as in printed text.
  const sentence = a => {
    if (getComputedStyle(a).display !== 'inline') return false;
    let block = a.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    return !!block && block.innerText.replace(/\s+/g, '').length > a.innerText.replace(/\s+/g, '').length;
  };
  const targets = document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, label');
  for (const el of targets) {
    if (el.tagName === 'LABEL' && !el.querySelector('input[type=checkbox], input[type=radio]')) continue;
    if (el.matches('input[type=checkbox], input[type=radio]') && el.closest('label')) continue;
    if (!shown(el)) continue;
    if (el.tagName === 'A' && sentence(el)) { out.exempt++; continue; }
    out.targets++;
    const r = el.getBoundingClientRect(), what = name(el);
    if (Math.min(r.width, r.height) < Math.min(out.minTargetW, out.minTargetH)) {
      out.minTargetW = r.width; out.minTargetH = r.height; out.minTargetAt = what;
    }
    if (r.width < minTarget - 0.5 || r.height < minTarget - 0.5) {
      problem('target ' + r.width.toFixed(0) + '×' + r.height.toFixed(0) + 'px: ' + what);
    }
  }
  // What the page hides must not show (a display rule can beat the hidden attribute).
  for (const el of document.querySelectorAll('[hidden]')) {
    if (el.getClientRects().length > 0) problem('shown although hidden: ' + name(el));
  }
  return out;
})`

// TestPhonePagesAccessibilityBrowser audits every phone page, as each role
// sees it with data on it, in Chromium at a 390 px phone and at the narrowest
// 360 px one: text size, line height and contrast, touch targets, no
// horizontal scroll, and the text growing with the phone's font setting. It
// logs the figures of each page (go test -v) and saves a screenshot of each
// to /tmp/menqian-shots.
func TestPhonePagesAccessibilityBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	ctx := context.Background()
	shop := w.Merchant[0]

	// A month with something of everything: a deduction under appeal, one
	// open to appeal, a bonus; an overdue notice, and one the merchant says
	// it fixed, with photos.
	appealed := e.record(w.Officer[0], shop, "HJWS-02", 3)
	open := e.record(w.Officer[0], shop, "HJWS-01", 2)
	e.record(w.Officer[0], shop, "BONUS-01", 2)
	if _, err := e.svc.FileAppeal(ctx, w.Shop[0], shop, appealed, "垃圾是环卫车未及时清运造成的，并非本店外溢"); err != nil {
		t.Fatal(err)
	}
	photo := func(a service.Actor, seed int) int64 {
		ph, err := e.svc.UploadPhoto(ctx, a, strings.NewReader(string(tinyPNG(seed))))
		if err != nil {
			t.Fatal(err)
		}
		return ph.ID
	}
	oneDay := 1
	if _, err := e.svc.IssueNotice(ctx, w.Officer[0], shop, service.NoticeInput{RuleCode: "SRZJ-01", DueDays: &oneDay}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().Add(36 * time.Hour))
	fixed, err := e.svc.IssueNotice(ctx, w.Officer[0], shop, service.NoticeInput{RuleCode: "SRZJ-02",
		Note: "门前晾晒衣物，请收起", Photos: []int64{photo(w.Officer[0], 501)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ReportNoticeFixed(ctx, w.Shop[0], fixed.ID, "已收起", []int64{photo(w.Shop[0], 502)}); err != nil {
		t.Fatal(err)
	}
	m, err := e.svc.Merchant(ctx, e.admin, shop)
	if err != nil {
		t.Fatal(err)
	}
	plaque := "/q/" + e.svc.PlaqueToken(m)

	type phonePage struct{ name, path string }
	visits := []struct {
		user  string // "" signed out
		pages []phonePage
	}{
		{"", []phonePage{{"login", "/login"}, {"plaque", plaque}}},
		{w.ShopName[0], []phonePage{
			{"merchant", "/merchant"},
			{"merchant-ledger", "/merchant/ledger"},
			{"merchant-appeals", "/merchant/appeals"},
			{"merchant-notices", "/merchant/notices"},
			{"merchant-appeal", fmt.Sprintf("/merchant/ledger/%d/appeal", open)},
		}},
		{w.OfficerName[0], []phonePage{
			{"officer", "/officer"},
			{"officer-road", fmt.Sprintf("/officer/roads/%d", w.Road[0])},
			{"officer-shop", fmt.Sprintf("/officer/shops/%d", shop)},
			{"officer-notice", fmt.Sprintf("/officer/shops/%d/notice", shop)},
			{"inspect", fmt.Sprintf("/inspect?m=%d", shop)},
			{"plaque-officer", plaque},
		}},
	}

	b := e.chrome(t)
	for _, v := range visits {
		if v.user != "" {
			b.login(v.user, password)
		}
		for _, p := range v.pages {
			b.open(p.path)
			if got := b.where(); got != p.path {
				t.Fatalf("%s: opened %s, the browser is at %s: %s", p.name, p.path, got, b.text())
			}
			b.screenshot(p.name)
			b.audit(p.name)
		}
		if v.user != "" {
			b.logout()
		}
	}
	b.noScriptErrors()
}

// audit checks the page open in the tab at the phone's width and at the
// narrowest, and with the browser's default font size raised; it logs the
// figures and reports each problem with the element.
func (b *tab) audit(name string) {
	b.t.Helper()
	// Collapsed parts (<details>) count as well: open them.
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('details').forEach(d => d.open = true)`))
	call := fmt.Sprintf(`%s(%v, %v, %v, %v)`, auditJS, minFontPx, minLineHeight, minTargetPx, minContrast)
	wide := eval[pageAudit](b, call)
	b.viewport(narrowWidth, phoneHeight)
	narrow := eval[pageAudit](b, call)
	b.viewport(phoneWidth, phoneHeight)

	target := "none"
	if wide.Targets > 0 {
		target = fmt.Sprintf("%.0f×%.0fpx (%s)", wide.MinTargetW, wide.MinTargetH, wide.MinTargetAt)
	}
	b.t.Logf("%-17s font ≥ %.1fpx (%s); line height ≥ %.2f× (%s); smallest target %s of %d, %d links in sentences exempt; "+
		"contrast ≥ %.2f:1 (%s); scrollWidth %.0f at %.0fpx",
		name, min(wide.MinFont, narrow.MinFont), wide.MinFontAt, min(wide.MinLineHeight, narrow.MinLineHeight), wide.MinLineHeightAt,
		target, wide.Targets, wide.Exempt, min(wide.MinContrast, narrow.MinContrast), wide.MinContrastAt,
		narrow.ScrollWidth, narrow.ViewportWidth)
	if wide.Texts == 0 {
		b.t.Errorf("%s: no text measured: the page is empty?", name)
	}
	for _, p := range wide.Problems {
		b.t.Errorf("%s at %dpx: %s", name, phoneWidth, p)
	}
	for _, p := range narrow.Problems {
		if !slices.Contains(wide.Problems, p) {
			b.t.Errorf("%s at %dpx: %s", name, narrowWidth, p)
		}
	}
	if narrow.ViewportWidth != narrowWidth || narrow.ScrollWidth > narrowWidth {
		b.t.Errorf("%s: at a %dpx phone the page is %.0fpx wide (viewport %.0fpx): it scrolls sideways", name, narrowWidth,
			narrow.ScrollWidth, narrow.ViewportWidth)
	}

	// The phone's font setting: text grows with the browser's default size.
	const larger = 24 // px; the default is 16
	b.do(fontSize(larger))
	big := eval[pageAudit](b, call)
	b.do(fontSize(16))
	if want := wide.HTMLFont * larger / 16; math.Abs(big.HTMLFont-want) > 0.01 || big.MinFont < wide.MinFont*larger/16-0.5 {
		b.t.Errorf("%s: with the default font at %dpx the root font is %.1fpx (want %.1f) and the smallest text %.1fpx (want %.1f): "+
			"a size fixed in px does not follow the phone's font setting (%s)", name, larger, big.HTMLFont, want, big.MinFont,
			wide.MinFont*larger/16, big.MinFontAt)
	}
}

// fontSize sets the browser's default font size, as a phone's font setting does.
func fontSize(px int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.SetFontSizes, cdppage.SetFontSizesParams{FontSizes: &cdppage.FontSizes{Standard: px}})
		return err
	})
}

// TestStylesheetFollowsFontSetting reads the stylesheet and the templates:
// the root font size is a percentage of the phone's setting and no size is
// fixed in px (SVG font-size attributes are user units, fixed as well).
func TestStylesheetFollowsFontSetting(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(raw)
	css = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(css, "")
	root := regexp.MustCompile(`(?m)(?:^|})\s*html\s*\{([^}]*)\}`).FindStringSubmatch(css)
	if root == nil {
		t.Fatal("app.css has no html rule")
	}
	if fs := regexp.MustCompile(`font-size\s*:\s*([^;]+)`).FindStringSubmatch(root[1]); fs == nil || !strings.HasSuffix(strings.TrimSpace(fs[1]), "%") {
		t.Errorf("app.css: the html rule %q should set font-size as a percentage of the phone's setting", strings.TrimSpace(root[1]))
	}
	fixed := regexp.MustCompile(`font(?:-size)?\s*:[^;}]*\b\d*\.?\d+(px|pt)\b`)
	for _, m := range fixed.FindAllString(css, -1) {
		t.Errorf("app.css: %q fixes a font size; use rem or em", m)
	}
	names, err := filepath.Glob("templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, name := range names {
		html, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`font-size\s*(=\s*"[^"]*"|:[^;"]*)`).FindAllString(string(html), -1) {
			t.Errorf("%s: %q fixes a font size; size text in app.css in rem", name, m)
		}
	}
}
