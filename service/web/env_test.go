package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
	"github.com/menqian/menqian/service/web"
)

// env is the pages of one menqian on a fresh database of one dialect.
type env struct {
	t     testing.TB
	db    *models.DB
	svc   *service.Service
	srv   *httptest.Server
	clock *dbtest.Clock
	admin service.Actor // the city admin
}

const (
	adminPassword = "admin-password-1"
	password      = "password-1234" // every seeded account's
)

// newEnv serves the pages on a fresh database with a bootstrap city admin.
// The clock starts at 2026-11-15 10:00 Shanghai.
// opts may change the service's options (a benchmark's Redis board).
func newEnv(t testing.TB, d models.Dialect, opts ...func(*service.Options)) *env {
	t.Helper()
	db := dbtest.Open(t, d)
	clk := dbtest.NewClock(time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC))
	o := service.Options{DB: db, Policy: policy.Default(), Secret: []byte("test-secret-0123456789"),
		Photos: photostore.NewLocal(t.TempDir()), PublicURL: "http://mq.test", Clock: clk.Now, PasswordCost: bcrypt.MinCost}
	for _, opt := range opts {
		opt(&o)
	}
	svc := service.New(o)
	ctx := context.Background()
	if _, _, err := svc.Bootstrap(ctx, adminPassword); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Options{Service: svc, Registry: prometheus.NewRegistry()}))
	t.Cleanup(srv.Close)
	e := &env{t: t, db: db, svc: svc, srv: srv, clock: clk}
	e.admin = e.actor("admin", adminPassword)
	return e
}

// storedPhoto is what the photo store keeps of f.
func storedPhoto(t testing.TB, f service.PhotoFile) []byte {
	t.Helper()
	r, err := f.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// actor signs in through the service (for seeding, not through the pages).
func (e *env) actor(username, pw string) service.Actor {
	e.t.Helper()
	res, err := e.svc.Login(context.Background(), username, pw)
	if err != nil {
		e.t.Fatalf("login %s: %v", username, err)
	}
	a, err := e.svc.Authenticate(res.Token)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// world is two counties, each with a road, a county admin, an officer, two
// shops and an account for the first shop.
type world struct {
	County   [2]int64
	Road     [2]int64
	Merchant [2]int64 // the shop with an account
	Other    [2]int64 // a second shop on the same road, without an account
	Officer  [2]service.Actor
	Admin    [2]service.Actor
	Shop     [2]service.Actor
	// usernames
	AdminName, OfficerName, ShopName [2]string
}

var seedCounties = [2][2]string{{"370303", "张店区"}, {"370302", "淄川区"}}

func ptr[T any](v T) *T { return &v }

// uscc makes a valid 统一社会信用代码 from a number.
func uscc(n int) string {
	s := fmt.Sprintf("9137030%010d", n)
	return s + string(service.USCCCheckChar(s))
}

// seed builds the world through the service as the city admin.
func (e *env) seed() world {
	e.t.Helper()
	ctx := context.Background()
	var w world
	must := func(err error) {
		e.t.Helper()
		if err != nil {
			e.t.Fatal(err)
		}
	}
	for i, c := range seedCounties {
		county, err := e.svc.CreateCounty(ctx, e.admin, service.CountyInput{Code: ptr(c[0]), Name: ptr(c[1])})
		must(err)
		w.County[i] = county.ID
		road, err := e.svc.CreateRoad(ctx, e.admin, service.RoadInput{CountyID: &county.ID, Name: ptr("柳泉路"), Town: ptr("车站街道")})
		must(err)
		w.Road[i] = road.ID
		m, err := e.svc.CreateMerchant(ctx, e.admin, service.MerchantInput{RoadID: &road.ID, Name: ptr("张记烧烤" + c[1]), USCC: ptr(uscc(2 * i)),
			Phone: ptr("13853312345"), OwnerName: ptr("张三"), Category: ptr("餐饮")})
		must(err)
		w.Merchant[i] = m.ID
		o, err := e.svc.CreateMerchant(ctx, e.admin, service.MerchantInput{RoadID: &road.ID, Name: ptr("李家面馆" + c[1]), USCC: ptr(uscc(2*i + 1))})
		must(err)
		w.Other[i] = o.ID
		w.AdminName[i], w.OfficerName[i], w.ShopName[i] = "admin"+c[0], "officer"+c[0], "shop"+c[0]
		_, err = e.svc.CreateUser(ctx, e.admin, service.UserInput{Username: w.AdminName[i], Password: password, Role: service.RoleCountyAdmin, CountyID: &county.ID})
		must(err)
		_, err = e.svc.CreateUser(ctx, e.admin, service.UserInput{Username: w.OfficerName[i], Password: password, Role: service.RoleOfficer,
			CountyID: &county.ID, DisplayName: "王巡查" + c[1]})
		must(err)
		_, err = e.svc.CreateUser(ctx, e.admin, service.UserInput{Username: w.ShopName[i], Password: password, Role: service.RoleMerchant, MerchantID: &m.ID})
		must(err)
		w.Admin[i], w.Officer[i], w.Shop[i] = e.actor(w.AdminName[i], password), e.actor(w.OfficerName[i], password), e.actor(w.ShopName[i], password)
	}
	return w
}

// tinyPNG is a valid 4×4 PNG, different for each seed.
func tinyPNG(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(0, 0, color.RGBA{uint8(seed), uint8(seed >> 8), 2, 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// record stores an inspection of one item by officer through the service,
// with a photo for a deduction; it returns the ledger entry's id.
func (e *env) record(officer service.Actor, merchant int64, rule string, points int) int64 {
	e.t.Helper()
	ctx := context.Background()
	var photos []int64
	if it, _ := e.svc.Policy().Item(rule); it.Kind == policy.Deduction {
		ph, err := e.svc.UploadPhoto(ctx, officer, bytes.NewReader(tinyPNG(int(merchant)*131+points)))
		if err != nil {
			e.t.Fatal(err)
		}
		photos = []int64{ph.ID}
	}
	res, _, err := e.svc.RecordInspection(ctx, officer, fmt.Sprintf("k-%d-%s-%d-%d", merchant, rule, points, time.Now().UnixNano()),
		service.InspectionInput{MerchantID: merchant, Items: []service.InspectionItem{{RuleCode: rule, Points: &points}}, Photos: photos})
	if err != nil {
		e.t.Fatal(err)
	}
	entries, _, err := e.svc.Ledger(ctx, officer, merchant, "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, en := range entries {
		if en.InspectionID != nil && *en.InspectionID == res.ID {
			return en.ID
		}
	}
	e.t.Fatalf("no ledger entry for inspection %d", res.ID)
	return 0
}

// snapshot counts the rows of every table a page can write, to prove a
// refused request stored nothing.
func (e *env) snapshot() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"users", "photos", "inspections", "ledger_entries", "scores", "notices", "appeals", "web_sessions", "audit_events",
		"audits", "audit_records"} {
		var n int64
		if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		out[tbl] = n
	}
	// Roads, shops, their officers and demonstration events, and the
	// citizens' cases with their reports and steps: any change of a row.
	for _, tbl := range []string{"roads", "merchants", "road_officers", "road_demo_events", "cases", "case_reports", "case_events", "credit_certificates"} {
		out[tbl+".rows"] = e.tableHash(tbl)
	}
	var n int64
	e.db.SQL().QueryRow("SELECT COUNT(*) FROM notices WHERE status <> 'open' OR reported_at IS NOT NULL").Scan(&n)
	out["notices.changed"] = n
	e.db.SQL().QueryRow("SELECT COUNT(*) FROM web_sessions WHERE ended_at IS NOT NULL").Scan(&n)
	out["web_sessions.ended"] = n
	e.db.SQL().QueryRow("SELECT COUNT(*) FROM counties").Scan(&n)
	out["counties"] = n
	e.db.SQL().QueryRow("SELECT COALESCE(SUM(demo_road_target), 0) FROM counties").Scan(&n)
	out["counties.targets"] = n
	// The console's decisions, account changes and imports.
	e.db.SQL().QueryRow("SELECT COUNT(*) FROM appeals WHERE status <> 'pending'").Scan(&n)
	out["appeals.decided"] = n
	e.db.SQL().QueryRow("SELECT COUNT(*) FROM users WHERE disabled <> 0").Scan(&n)
	out["users.disabled"] = n
	e.db.SQL().QueryRow("SELECT COALESCE(SUM(token_generation), 0) FROM users").Scan(&n)
	out["users.generation"] = n
	e.db.SQL().QueryRow("SELECT COUNT(*) FROM merchants").Scan(&n)
	out["merchants"] = n
	return out
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each answer.
type browser struct {
	e    *env
	c    *http.Client
	csrf string // the CSRF token of the last page that had one
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer as a browser got it.
type page struct {
	Status int
	Header http.Header
	Body   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"|id="csrf" value="([^"]*)"`)

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(body)}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1] + m[2]
	}
	return p
}

// get opens a page.
func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form, with the CSRF token of the last page unless form has one.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// postMultipart sends a form with files (field → file contents), with the
// CSRF token of the last page unless fields has one.
func (b *browser) postMultipart(path string, fields map[string]string, files map[string][]byte) page {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if _, ok := fields["csrf"]; !ok {
		mw.WriteField("csrf", b.csrf)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for k, data := range files {
		fw, _ := mw.CreateFormFile(k, "photo.png")
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// login signs in through the form and returns the answer to the POST.
func (b *browser) login(username, pw string) page {
	b.e.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"username": {username}, "password": {pw}})
}

// signedIn is a browser signed in as username (which must succeed).
func (e *env) signedIn(username string) *browser {
	e.t.Helper()
	b := e.browser()
	if p := b.login(username, password); p.Status != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", username, p.Status, p.Body)
	}
	return b
}

// tableHash is a hash of every row of a table, so a snapshot sees any change.
func (e *env) tableHash(tbl string) int64 {
	e.t.Helper()
	rows, err := e.db.SQL().Query("SELECT * FROM " + tbl + " ORDER BY 1, 2")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		e.t.Fatal(err)
	}
	h := fnv.New64a()
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			e.t.Fatal(err)
		}
		for _, v := range vals {
			h.Write(v)
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return int64(h.Sum64())
}
