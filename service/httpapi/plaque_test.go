package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/qrcodes/qrtest"
	"github.com/menqian/menqian/service"
)

// plaqueWorld is the seeded world plus a dozen merchants on county 0's first
// road (one of them closed) and two on a second road of county 0.
type plaqueWorld struct {
	world
	Road2          int64
	Active, Closed []int64 // county 0, road 0 (the seeded merchant included)
	OnRoad2        []int64
}

func (e *env) seedPlaques() plaqueWorld {
	e.t.Helper()
	pw := plaqueWorld{world: e.seed()}
	w := pw.world
	pw.Active = append(pw.Active, w.Merchant[0])
	for i := 1; i <= 12; i++ {
		id := e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0],
			"name": fmt.Sprintf("测试商户%02d号", i), "phone": "13900000000", "owner_name": "李四"}).id()
		pw.Active = append(pw.Active, id)
	}
	closed := pw.Active[5]
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/merchants/%d", closed), w.Admin[0], map[string]any{"status": "closed"})
	pw.Closed = []int64{closed}
	pw.Active = append(pw.Active[:5], pw.Active[6:]...)
	pw.Road2 = e.must(201, "POST", "/api/v1/roads", w.Admin[0], map[string]any{"county_id": w.County[0], "name": "共青团路", "town": "公园街道"}).id()
	for i := 1; i <= 2; i++ {
		pw.OnRoad2 = append(pw.OnRoad2, e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": pw.Road2,
			"name": fmt.Sprintf("共青团路商户%d", i)}).id())
	}
	return pw
}

// checkPlaqueZip checks a plaque ZIP: one "<code>.png" per merchant of ids, each
// decoding to that merchant's plaque URL, and nothing else.
func (e *env) checkPlaqueZip(t *testing.T, body []byte, ids []int64) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	want := map[string]string{}
	for _, id := range ids {
		m := e.merchant(id)
		want[m.Code+".png"] = e.plaqueURL(id)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		url, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected entry %q", f.Name)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeQR(t, data); got != url {
			t.Errorf("%s decodes to %q, want %q", f.Name, got, url)
		}
	}
	if len(zr.File) != len(want) {
		t.Errorf("ZIP has %d entries %v, want %d", len(zr.File), names, len(want))
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("entries not in code order: %v", names)
	}
}

func TestPlaqueZip(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			pw := e.seedPlaques()
			w := pw.world

			road := fmt.Sprintf("/api/v1/roads/%d/plaques?format=zip", w.Road[0])
			r := e.must(200, "GET", road, w.Officer[0], nil)
			if ct := r.Header.Get("Content-Type"); ct != "application/zip" {
				t.Errorf("Content-Type %q", ct)
			}
			cd := r.Header.Get("Content-Disposition")
			if want := fmt.Sprintf(`attachment; filename="plaques-370303-road%d.zip"`, w.Road[0]); cd != want {
				t.Errorf("Content-Disposition %q, want %q", cd, want)
			}
			e.checkPlaqueZip(t, r.Body, pw.Active)

			county := fmt.Sprintf("/api/v1/counties/%d/plaques?format=zip", w.County[0])
			r = e.must(200, "GET", county, w.Admin[0], nil)
			if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="plaques-370303.zip"` {
				t.Errorf("county Content-Disposition %q", cd)
			}
			e.checkPlaqueZip(t, r.Body, append(append([]int64{}, pw.Active...), pw.OnRoad2...))

			// Size is honoured and bounded.
			r = e.must(200, "GET", fmt.Sprintf("/api/v1/roads/%d/plaques?format=zip&size=1024", pw.Road2), e.admin, nil)
			e.checkPlaqueZip(t, r.Body, pw.OnRoad2)
			zr, _ := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
			f, _ := zr.File[0].Open()
			data, _ := io.ReadAll(f)
			if img := decodePNGWidth(t, data); img > 1024 || img < 768 {
				t.Errorf("size=1024 entry is %d px wide", img)
			}
			for _, q := range []string{"format=zip&size=64", "format=zip&size=4096", "format=zip&size=x", "format=pdf"} {
				if r := e.do("GET", fmt.Sprintf("/api/v1/roads/%d/plaques?%s", w.Road[0], q), w.Officer[0], nil); r.Status != 400 || r.code() != "invalid_input" {
					t.Errorf("%s: %d %.200s, want 400", q, r.Status, r.Body)
				}
			}

			// A road without active merchants is an empty, valid archive.
			empty := e.must(201, "POST", "/api/v1/roads", w.Admin[0], map[string]any{"county_id": w.County[0], "name": "新村路"}).id()
			e.checkPlaqueZip(t, e.must(200, "GET", fmt.Sprintf("/api/v1/roads/%d/plaques?format=zip", empty), w.Officer[0], nil).Body, nil)
		})
	}
}

func decodePNGWidth(t *testing.T, data []byte) int {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Fatal("not a PNG")
	}
	// IHDR width: bytes 16..19, big endian.
	return int(data[16])<<24 | int(data[17])<<16 | int(data[18])<<8 | int(data[19])
}

var sheetImg = regexp.MustCompile(`src="data:image/png;base64,([A-Za-z0-9+/=]+)"`)

func TestPlaqueSheet(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			pw := e.seedPlaques()
			w := pw.world

			r := e.must(200, "GET", fmt.Sprintf("/api/v1/roads/%d/plaques", w.Road[0]), w.Officer[0], nil)
			body := string(r.Body)
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			}
			for _, s := range []string{"size:A4", `lang="zh-CN"`, "包环境卫生", "包绿化美观", "柳泉路"} {
				if !strings.Contains(body, s) {
					t.Errorf("sheet lacks %q", s)
				}
			}
			if strings.Contains(body, "加分") {
				t.Error("sheet lists the bonus category as a duty")
			}
			for _, id := range pw.Active {
				m := e.merchant(id)
				if n := strings.Count(body, m.Name); n != 1 {
					t.Errorf("active %s appears %d times", m.Name, n)
				}
				if n := strings.Count(body, m.Code); n != 1 {
					t.Errorf("active code %s appears %d times", m.Code, n)
				}
			}
			for _, id := range append(append([]int64{}, pw.Closed...), pw.OnRoad2...) {
				m := e.merchant(id)
				if strings.Contains(body, m.Name) || strings.Contains(body, m.Code) {
					t.Errorf("road sheet shows %s (%s), closed or of another road", m.Name, m.Code)
				}
			}
			for _, s := range []string{"13900000000", "李四", "13853312345", "张三"} {
				if strings.Contains(body, s) {
					t.Errorf("sheet shows private %q", s)
				}
			}
			// Every inlined image is a plaque of this road.
			want := map[string]bool{}
			for _, id := range pw.Active {
				want[e.plaqueURL(id)] = true
			}
			imgs := sheetImg.FindAllStringSubmatch(body, -1)
			if len(imgs) != len(pw.Active) {
				t.Errorf("%d images, want %d", len(imgs), len(pw.Active))
			}
			srcs := map[string]bool{}
			for i, m := range imgs {
				if srcs[m[1]] {
					t.Errorf("image %d repeats an earlier one", i)
				}
				srcs[m[1]] = true
				if i%4 != 0 {
					continue // decoding is slow under -race; the ZIP test decodes every plaque
				}
				data, err := base64.StdEncoding.DecodeString(m[1])
				if err != nil {
					t.Fatal(err)
				}
				url := decodeQR(t, data)
				if !want[url] {
					t.Errorf("image decodes to %q, not a plaque of the road or shown twice", url)
				}
				delete(want, url)
			}
			if n := strings.Count(body, `class="page"`); n != 1 {
				t.Errorf("%d pages for %d plaques, want 1", n, len(pw.Active))
			}

			// The county sheet has both roads; paging splits it.
			county := fmt.Sprintf("/api/v1/counties/%d/plaques", w.County[0])
			body = string(e.must(200, "GET", county+"?format=html", w.Admin[0], nil).Body)
			all := append(append([]int64{}, pw.Active...), pw.OnRoad2...)
			for _, id := range all {
				if m := e.merchant(id); strings.Count(body, m.Code) != 1 {
					t.Errorf("county sheet shows %s %d times", m.Code, strings.Count(body, m.Code))
				}
			}
			if n := strings.Count(body, `class="page"`); n != 2 {
				t.Errorf("%d pages for %d plaques, want 2", n, len(all))
			}
			seen := map[string]int{}
			for off := 0; off < len(all); off += 5 {
				body := string(e.must(200, "GET", fmt.Sprintf("%s?offset=%d&limit=5", county, off), w.Officer[0], nil).Body)
				for _, id := range all {
					seen[e.merchant(id).Code] += strings.Count(body, e.merchant(id).Code)
				}
				if hasNext := strings.Contains(body, "下一批"); hasNext != (off+5 < len(all)) {
					t.Errorf("offset %d: next link %v", off, hasNext)
				}
			}
			for code, n := range seen {
				if n != 1 {
					t.Errorf("paged sheets show %s %d times", code, n)
				}
			}
			for _, q := range []string{"limit=0", "limit=481", "offset=-1", "offset=x"} {
				if r := e.do("GET", county+"?"+q, w.Officer[0], nil); r.Status != 400 {
					t.Errorf("%s: status %d, want 400", q, r.Status)
				}
			}
			e.checkPlaquesAccess(t, w)
		})
	}
}

// checkPlaquesAccess: county admins and officers of the county and the city
// admin print; merchants are refused; other counties do not see the set.
func (e *env) checkPlaquesAccess(t *testing.T, w world) {
	t.Helper()
	for _, format := range []string{"html", "zip"} {
		for _, c := range []struct {
			name, path, token string
			status            int
		}{
			{"county admin, road", fmt.Sprintf("/api/v1/roads/%d/plaques", w.Road[0]), w.Admin[0], 200},
			{"officer, county", fmt.Sprintf("/api/v1/counties/%d/plaques", w.County[0]), w.Officer[0], 200},
			{"city admin, county", fmt.Sprintf("/api/v1/counties/%d/plaques", w.County[1]), e.admin, 200},
			{"city admin, road", fmt.Sprintf("/api/v1/roads/%d/plaques", w.Road[1]), e.admin, 200},
			{"merchant, road", fmt.Sprintf("/api/v1/roads/%d/plaques", w.Road[0]), w.Shop[0], 403},
			{"merchant, county", fmt.Sprintf("/api/v1/counties/%d/plaques", w.County[0]), w.Shop[0], 403},
			{"other county's officer, road", fmt.Sprintf("/api/v1/roads/%d/plaques", w.Road[0]), w.Officer[1], 404},
			{"other county's admin, county", fmt.Sprintf("/api/v1/counties/%d/plaques", w.County[0]), w.Admin[1], 404},
			{"unknown road", "/api/v1/roads/999999/plaques", w.Admin[0], 404},
			{"unknown county", "/api/v1/counties/999999/plaques", e.admin, 404},
			{"no login", fmt.Sprintf("/api/v1/roads/%d/plaques", w.Road[0]), "", 401},
		} {
			r := e.do("GET", c.path+"?format="+format, c.token, nil)
			if r.Status != c.status {
				t.Errorf("%s (%s): status %d, want %d: %.200s", c.name, format, r.Status, c.status, r.Body)
			}
			if c.status != 200 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s (%s): error is %q, want the JSON error", c.name, format, r.Header.Get("Content-Type"))
			}
		}
	}
}

// TestPlaqueZipLarge measures the plaque ZIP of a county of 10,000
// merchants, streamed through HTTP to a discarding client, with the peak heap
// sampled every 5 ms. Guarded, since seeding and rendering take a while:
//
//	MENQIAN_BENCH_LARGE=1 go test -run PlaqueZipLarge -v ./service/httpapi/
//
// MENQIAN_BENCH_LARGE_N changes the count; MENQIAN_BENCH_LARGE_SIZE the size.
func TestPlaqueZipLarge(t *testing.T) {
	if os.Getenv("MENQIAN_BENCH_LARGE") != "1" {
		t.Skip("set MENQIAN_BENCH_LARGE=1 to measure a 10,000-merchant plaque ZIP")
	}
	n := 10_000
	fmt.Sscan(os.Getenv("MENQIAN_BENCH_LARGE_N"), &n)
	size := qrcodes.DefaultSize
	fmt.Sscan(os.Getenv("MENQIAN_BENCH_LARGE_SIZE"), &size)
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			start := time.Now()
			ms := make([]models.Merchant, 0, 500)
			now := time.Now().UTC().Truncate(time.Millisecond)
			for i := 0; i < n; i += len(ms) {
				ms = ms[:0]
				for j := i; j < min(n, i+500); j++ {
					code, err := qrcodes.NewCode()
					if err != nil {
						t.Fatal(err)
					}
					ms = append(ms, models.Merchant{Code: code, CountyID: w.County[0], RoadID: w.Road[0], Name: fmt.Sprintf("商户%05d", j),
						Status: "active", QRGeneration: 1, CreatedAt: now, UpdatedAt: now})
				}
				if err := e.db.CreateMerchants(ctx, ms); err != nil { // multi-row INSERTs
					t.Fatal(err)
				}
			}
			t.Logf("%s: seeded %d merchants in %s", d, n, time.Since(start).Round(time.Millisecond))

			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var ms runtime.MemStats
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			start = time.Now()
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/counties/%d/plaques?format=zip&size=%d", e.srv.URL, w.County[0], size), nil)
			req.Header.Set("Authorization", "Bearer "+w.Admin[0])
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			written, err := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			elapsed := time.Since(start)
			close(stop)
			<-sampled
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("status %d, copy error %v", res.StatusCode, err)
			}
			t.Logf("%s: ZIP of %d plaques at %d px: %.1f MiB in %s (%.0f plaques/s); heap in use before %.1f MiB, peak %.1f MiB (+%.1f MiB)",
				d, n+1, size, float64(written)/(1<<20), elapsed.Round(time.Millisecond), float64(n+1)/elapsed.Seconds(),
				float64(base.HeapInuse)/(1<<20), float64(peak.Load())/(1<<20), (float64(peak.Load())-float64(base.HeapInuse))/(1<<20))
			if grown := int64(peak.Load()) - int64(base.HeapInuse); grown > 64<<20 {
				t.Errorf("heap grew by %d MiB while streaming: not streamed", grown>>20)
			}
		})
	}
}

// decodeQR decodes a PNG with ZXing (a decoder no one here wrote).
func decodeQR(t testing.TB, data []byte) string {
	t.Helper()
	text, _, err := qrtest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// merchant reads a merchant straight from the database.
func (e *env) merchant(id int64) models.Merchant {
	e.t.Helper()
	m, err := e.db.MerchantByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// plaqueURL is what the merchant's current plaque must encode.
func (e *env) plaqueURL(id int64) string {
	return "http://mq.test/q/" + e.svc.PlaqueToken(e.merchant(id))
}

func (e *env) token(id int64) string { return e.svc.PlaqueToken(e.merchant(id)) }

func TestQRCodePNG(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			path := fmt.Sprintf("/api/v1/merchants/%d/qrcode.png", w.Merchant[0])
			want := e.plaqueURL(w.Merchant[0])

			for _, size := range []int{128, 512, 2048} {
				r := e.must(200, "GET", fmt.Sprintf("%s?size=%d", path, size), w.Officer[0], nil)
				if ct := r.Header.Get("Content-Type"); ct != "image/png" {
					t.Errorf("size %d: Content-Type %q", size, ct)
				}
				if got := decodeQR(t, r.Body); got != want {
					t.Errorf("size %d: decoded %q, want %q", size, got, want)
				}
				cfg, err := png.DecodeConfig(bytes.NewReader(r.Body))
				if err != nil || cfg.Width > size || cfg.Width < size*3/4 {
					t.Errorf("size %d: image %dx%d (%v)", size, cfg.Width, cfg.Height, err)
				}
			}
			// Default size, county admin and city admin too.
			for _, tok := range []string{w.Admin[0], e.admin} {
				if got := decodeQR(t, e.must(200, "GET", path, tok, nil).Body); got != want {
					t.Errorf("default size: decoded %q, want %q", got, want)
				}
			}

			// ETag: the same plaque and size is 304; another size is another tag.
			r := e.must(200, "GET", path+"?size=512", w.Officer[0], nil)
			etag := r.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if nm := e.do("GET", path+"?size=512", w.Officer[0], nil, "If-None-Match", etag); nm.Status != http.StatusNotModified || len(nm.Body) != 0 {
				t.Errorf("If-None-Match: status %d, %d bytes; want 304 and no body", nm.Status, len(nm.Body))
			}
			if other := e.must(200, "GET", path+"?size=1024", w.Officer[0], nil); other.Header.Get("ETag") == etag {
				t.Error("size 1024 has the ETag of size 512")
			}
			// A reissued plaque changes the image, so the old tag must not match.
			e.must(200, "POST", fmt.Sprintf("/api/v1/merchants/%d/qrcode/reissue", w.Merchant[0]), w.Admin[0], nil)
			if again := e.do("GET", path+"?size=512", w.Officer[0], nil, "If-None-Match", etag); again.Status != 200 {
				t.Errorf("after reissue, old ETag: status %d, want 200", again.Status)
			} else if got := decodeQR(t, again.Body); got != e.plaqueURL(w.Merchant[0]) || got == want {
				t.Errorf("after reissue decoded %q, want the new URL %q", got, e.plaqueURL(w.Merchant[0]))
			}

			for _, c := range []struct {
				name, path, token string
				status            int
				code              string
			}{
				{"size too small", path + "?size=127", w.Officer[0], 400, "invalid_input"},
				{"size too large", path + "?size=2049", w.Officer[0], 400, "invalid_input"},
				{"size not a number", path + "?size=big", w.Officer[0], 400, "invalid_input"},
				{"officer of the other county", path, w.Officer[1], 404, "not_found"},
				{"admin of the other county", path, w.Admin[1], 404, "not_found"},
				{"the merchant itself", path, w.Shop[0], 403, "forbidden"},
				{"no login", path, "", 401, "unauthorized"},
				{"unknown merchant", "/api/v1/merchants/999999/qrcode.png", w.Officer[0], 404, "not_found"},
			} {
				if r := e.do("GET", c.path, c.token, nil); r.Status != c.status || r.code() != c.code {
					t.Errorf("%s: status %d code %q, want %d %q", c.name, r.Status, r.code(), c.status, c.code)
				}
			}
		})
	}
}

// TestReissuePlaque: only a county admin of the shop's county (or the city
// admin) reissues; the new token replaces the old at once, even in the
// public profile cache; an old or forged plaque records no inspection. What
// the plaque page shows for either is tested with the pages (package web).
func TestReissuePlaque(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			id := w.Merchant[0]
			old := e.token(id)
			// Scan it first, so a cached profile must not outlive the reissue.
			if _, err := e.svc.ProfileByToken(ctx, old); err != nil {
				t.Fatal(err)
			}

			reissue := fmt.Sprintf("/api/v1/merchants/%d/qrcode/reissue", id)
			for _, c := range []struct {
				name, token string
				status      int
			}{
				{"officer", w.Officer[0], 403},
				{"merchant", w.Shop[0], 403},
				{"admin of the other county", w.Admin[1], 404},
				{"no login", "", 401},
			} {
				if r := e.do("POST", reissue, c.token, nil); r.Status != c.status {
					t.Errorf("reissue by %s: status %d, want %d", c.name, r.Status, c.status)
				}
			}
			if got := e.token(id); got != old {
				t.Fatal("a refused reissue changed the token")
			}

			r := e.must(200, "POST", reissue, w.Admin[0], nil)
			fresh, _ := r.JSON["token"].(string)
			if fresh == "" || fresh == old || fresh != e.token(id) {
				t.Fatalf("reissue token %q (old %q, stored %q)", fresh, old, e.token(id))
			}
			if u, _ := r.JSON["url"].(string); u != "http://mq.test/q/"+fresh {
				t.Errorf("reissue url %q", u)
			}
			if _, err := e.svc.ProfileByToken(ctx, old); !errors.Is(err, service.ErrPlaqueReplaced) {
				t.Errorf("old plaque after the reissue: %v, want it replaced", err)
			}
			if p, err := e.svc.ProfileByToken(ctx, fresh); err != nil || p.Code != e.merchant(id).Code {
				t.Errorf("new plaque: %+v, %v", p, err)
			}
			// The city admin may reissue anywhere.
			e.must(200, "POST", fmt.Sprintf("/api/v1/merchants/%d/qrcode/reissue", w.Merchant[1]), e.admin, nil)

			// Inspecting by scan: old and forged plaques record nothing.
			flip := func(s string, i int) string {
				b := []byte(s)
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				return string(b)
			}
			inspect := func(token, key string) resp {
				return e.do("POST", "/api/v1/inspections", w.Officer[0], map[string]any{"qr_token": token,
					"items": []map[string]any{{"rule_code": "BONUS-01"}}}, "Idempotency-Key", key)
			}
			before := e.snapshot()
			for i, bad := range []string{old, flip(fresh, len(fresh)-2), flip(fresh, 0), e.merchant(id).Code} {
				if r := inspect(bad, fmt.Sprint("bad-", i)); r.Status != 404 || r.code() != "not_found" {
					t.Errorf("inspection with token %q: %d %s", bad, r.Status, r.Body)
				}
			}
			if after := e.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused inspections stored something:\nbefore %v\nafter  %v", before, after)
			}
			r = inspect(fresh, "good-1")
			if r.Status != 201 {
				t.Fatalf("inspection with the new token: %d %s", r.Status, r.Body)
			}
			if mid, _ := r.JSON["merchant_id"].(float64); int64(mid) != id {
				t.Errorf("inspection recorded for merchant %v, want %d", r.JSON["merchant_id"], id)
			}
			// An officer of the other county cannot inspect by scanning either.
			if r := e.do("POST", "/api/v1/inspections", w.Officer[1], map[string]any{"qr_token": fresh,
				"items": []map[string]any{{"rule_code": "BONUS-01"}}}, "Idempotency-Key", "other-1"); r.Status != 404 {
				t.Errorf("other county's officer inspecting by token: %d %s", r.Status, r.Body)
			}
			e.checkClean()
		})
	}
}

// TestSessionCookieOpensAPIGets: a browser signed in to the pages (the
// menqian_session cookie of a real web sign-in) may GET the API as its
// account, so a county admin opens the plaque print sheet straight in the
// browser; it may not write with the cookie alone; a session ended, expired,
// disabled or reset stops at once; the old menqian_token cookie, even with
// a valid login token in it, no longer counts.
func TestSessionCookieOpensAPIGets(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			ctx := context.Background()
			pw := "password-" + seedCounties[0][0]
			signIn := func(username string) string {
				t.Helper()
				s, err := e.svc.StartSession(ctx, username, pw)
				if err != nil {
					t.Fatalf("sign in %s: %v", username, err)
				}
				return s.ID
			}
			cookie := func(id string) []string { return []string{"Cookie", "menqian_session=" + id} }
			admin := signIn("admin" + seedCounties[0][0])
			sheet := fmt.Sprintf("/api/v1/counties/%d/plaques?format=html", w.County[0])
			code := e.merchant(w.Merchant[0]).Code

			r := e.must(200, "GET", sheet, "", nil, cookie(admin)...)
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Body), `<span class="code">`+code+`</span>`) {
				t.Errorf("plaque sheet by cookie: %s %.300s", r.Header.Get("Content-Type"), r.Body)
			}
			if cc := r.Header.Get("Cache-Control"); cc != "private, no-store" {
				t.Errorf("plaque sheet by cookie: Cache-Control %q", cc)
			}
			if me := e.must(200, "GET", "/api/v1/me", "", nil, cookie(admin)...); me.JSON["username"] != "admin"+seedCounties[0][0] {
				t.Errorf("me by cookie: %s", me.Body)
			} else if cc, v := me.Header.Get("Cache-Control"), me.Header.Get("Vary"); cc != "private, no-store" || !strings.Contains(v, "Cookie") {
				t.Errorf("me by cookie: Cache-Control %q, Vary %q; want private, no-store varying by Cookie", cc, v)
			}
			// The account's own rules hold: another county's sheet is unknown,
			// a merchant's session prints nothing.
			if r := e.do("GET", fmt.Sprintf("/api/v1/counties/%d/plaques?format=html", w.County[1]), "", nil, cookie(admin)...); r.Status != 404 || r.code() != "not_found" {
				t.Errorf("other county's sheet by cookie: %d %s", r.Status, r.Body)
			}
			shop := signIn("shop" + seedCounties[0][0])
			if r := e.do("GET", sheet, "", nil, cookie(shop)...); r.Status != 403 || r.code() != "forbidden" {
				t.Errorf("merchant's cookie, plaque sheet: %d %s", r.Status, r.Body)
			}

			// Writes need the Authorization header: the cookie alone is 401 and
			// changes nothing.
			tok := e.token(w.Merchant[0])
			before := e.snapshot()
			for _, c := range []struct{ method, path string }{
				{"POST", fmt.Sprintf("/api/v1/merchants/%d/qrcode/reissue", w.Merchant[0])},
				{"PATCH", fmt.Sprintf("/api/v1/merchants/%d", w.Merchant[0])},
				{"POST", "/api/v1/roads"},
			} {
				var body any
				if c.method == "PATCH" {
					body = map[string]any{"name": "改名"}
				} else if c.path == "/api/v1/roads" {
					body = map[string]any{"county_id": w.County[0], "name": "新路"}
				}
				if r := e.do(c.method, c.path, "", body, cookie(admin)...); r.Status != 401 || r.code() != "unauthorized" {
					t.Errorf("%s %s by cookie: %d %s, want 401", c.method, c.path, r.Status, r.Body)
				}
			}
			if got := e.token(w.Merchant[0]); got != tok {
				t.Error("a write by cookie reissued the plaque")
			}
			if after := e.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("writes by cookie stored something:\nbefore %v\nafter  %v", before, after)
			}
			// The header decides when both come: a bad cookie does not spoil it.
			e.must(200, "GET", sheet, w.Admin[0], nil, "Cookie", "menqian_session=not-a-session")

			// Cookies that do not sign in: the old token cookie, unknown ids,
			// and sessions ended, expired, disabled or reset.
			for _, c := range []struct{ name, cookie string }{
				{"old menqian_token cookie with a valid login token", "menqian_token=" + w.Admin[0]},
				{"unknown session", "menqian_session=not-a-session"},
				{"empty session", "menqian_session="},
				{"a login token as the session", "menqian_session=" + w.Admin[0]},
			} {
				if r := e.do("GET", sheet, "", nil, "Cookie", c.cookie); r.Status != 401 || r.code() != "unauthorized" {
					t.Errorf("%s: %d %s, want 401", c.name, r.Status, r.Body)
				}
			}
			ended := signIn("admin" + seedCounties[0][0])
			e.must(200, "GET", "/api/v1/me", "", nil, cookie(ended)...)
			if err := e.svc.EndSession(ctx, ended); err != nil {
				t.Fatal(err)
			}
			if r := e.do("GET", "/api/v1/me", "", nil, cookie(ended)...); r.Status != 401 {
				t.Errorf("ended session: %d %s", r.Status, r.Body)
			}
			officer := signIn("officer" + seedCounties[0][0])
			e.must(200, "GET", "/api/v1/me", "", nil, cookie(officer)...)
			e.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.OfficerID[0]), w.Admin[0], map[string]any{"disabled": true})
			if r := e.do("GET", "/api/v1/me", "", nil, cookie(officer)...); r.Status != 401 {
				t.Errorf("disabled account's session: %d %s", r.Status, r.Body)
			}
			e.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.OfficerID[0]), w.Admin[0], map[string]any{"disabled": false})
			if r := e.do("GET", "/api/v1/me", "", nil, cookie(officer)...); r.Status != 401 {
				t.Errorf("a session from before the disable works after re-enabling: %d %s", r.Status, r.Body)
			}
			officer = signIn("officer" + seedCounties[0][0])
			e.must(200, "GET", "/api/v1/me", "", nil, cookie(officer)...)
			e.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.OfficerID[0]), w.Admin[0], map[string]any{"password": "a-new-password-1"})
			if r := e.do("GET", "/api/v1/me", "", nil, cookie(officer)...); r.Status != 401 {
				t.Errorf("session after a password reset: %d %s", r.Status, r.Body)
			}
			e.clock.Set(e.clock.Now().Add(service.TokenTTL + time.Second))
			if r := e.do("GET", "/api/v1/me", "", nil, cookie(admin)...); r.Status != 401 {
				t.Errorf("expired session: %d %s", r.Status, r.Body)
			}
		})
	}
}
