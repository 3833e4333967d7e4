package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
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
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
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
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
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
