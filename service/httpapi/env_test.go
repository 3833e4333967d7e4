package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/httpapi"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/photostore/s3test"
	"github.com/menqian/menqian/service/policy"
)

// TestMain stops the S3 server the photo tests started (s3test).
func TestMain(m *testing.M) { s3test.Main(m) }

// env is one running menqian on a fresh database of one dialect.
type env struct {
	t      testing.TB
	db     *models.DB
	svc    *service.Service
	srv    *httptest.Server
	clock  *dbtest.Clock
	photos photostore.Store
	admin  string // city admin token
}

const adminPassword = "admin-password-1"

// newEnv starts menqian on a fresh database with a bootstrap admin logged in.
// The clock starts at 2026-11-15 10:00 Shanghai unless changed.
func newEnv(t testing.TB, d models.Dialect) *env {
	t.Helper()
	return newEnvWith(t, d, nil)
}

// newEnvWith is newEnv with a leaderboard made from the database and clock
// (nil: the SQL board).
func newEnvWith(t testing.TB, d models.Dialect, board func(db *models.DB, p *policy.Policy, now func() time.Time) leaderboard.Board) *env {
	t.Helper()
	return newEnvOn(t, d, board, photostore.NewLocal(t.TempDir()))
}

// newEnvOn is newEnvWith keeping the photos in photos.
func newEnvOn(t testing.TB, d models.Dialect, board func(db *models.DB, p *policy.Policy, now func() time.Time) leaderboard.Board, photos photostore.Store) *env {
	t.Helper()
	db := dbtest.Open(t, d)
	ctx := context.Background()
	clk := dbtest.NewClock(time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC))
	pol := policy.Default()
	var b leaderboard.Board
	if board != nil {
		b = board(db, pol, clk.Now)
	}
	svc := service.New(service.Options{DB: db, Policy: pol, Secret: []byte("test-secret-0123456789"),
		Photos: photos, PublicURL: "http://mq.test", Clock: clk.Now, Board: b, PasswordCost: bcrypt.MinCost})
	if _, _, err := svc.Bootstrap(ctx, adminPassword); err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(httpapi.Options{Service: svc, Registry: prometheus.NewRegistry(), Ready: func() error { return db.Ping(ctx) }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, db: db, svc: svc, srv: srv, clock: clk, photos: photos}
	e.admin = e.login("admin", adminPassword)
	return e
}

// resp is a decoded response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// code returns error.code of an error response.
func (r resp) code() string {
	if e, ok := r.JSON["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// id returns the numeric id field of a created resource.
func (r resp) id() int64 {
	f, _ := r.JSON["id"].(float64)
	return int64(f)
}

// do sends one request; body may be nil, a string (sent raw) or a value (JSON).
// headers are name, value pairs.
func (e *env) do(method, path, token string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(req, token)
}

// send performs req, with the token when given, and reads the answer.
func (e *env) send(req *http.Request, token string) resp {
	e.t.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := resp{Status: res.StatusCode, Header: res.Header}
	out.Body, _ = io.ReadAll(res.Body)
	checkAnswer(e.t, req, out.Status, out.Header, out.Body) // every answer matches openapi.json (openapi_test.go)
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(out.Body, &out.JSON); err != nil {
			e.t.Fatalf("%s %s: bad JSON answer: %v: %.300s", req.Method, req.URL.Path, err, out.Body)
		}
	}
	return out
}

// postMultipart posts data as one file part of a multipart form; ctype is the
// part's declared content type (which the server must not trust).
func (e *env) postMultipart(path, token, field, filename, ctype string, data []byte) resp {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+filename+`"`)
	h.Set("Content-Type", ctype)
	pw, _ := mw.CreatePart(h)
	pw.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", e.srv.URL+path, &buf)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return e.send(req, token)
}

// must sends a request and fails the test unless the status is want.
func (e *env) must(want int, method, path, token string, body any, headers ...string) resp {
	e.t.Helper()
	r := e.do(method, path, token, body, headers...)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

func (e *env) login(username, password string) string {
	e.t.Helper()
	r := e.must(200, "POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password})
	return r.JSON["token"].(string)
}

// world is a seeded pair of counties, each with roads, a county admin, an
// officer, merchants and a merchant account.
type world struct {
	County    [2]int64
	Road      [2]int64
	Merchant  [2]int64
	Admin     [2]string // county admin tokens
	Officer   [2]string
	OfficerID [2]int64
	Shop      [2]string // merchant account tokens
	Photo     [2]int64  // a photo uploaded by each county's officer
}

var seedCounties = [2][2]string{{"370303", "张店区"}, {"370302", "淄川区"}}

// seed builds the world through the API as the city admin.
func (e *env) seed() world {
	e.t.Helper()
	var w world
	for i, c := range seedCounties {
		w.County[i] = e.must(201, "POST", "/api/v1/counties", e.admin, map[string]any{"code": c[0], "name": c[1]}).id()
		w.Road[i] = e.must(201, "POST", "/api/v1/roads", e.admin, map[string]any{"county_id": w.County[i], "name": "柳泉路", "town": "车站街道"}).id()
		uscc := fmt.Sprintf("91%s00000000%d", c[0], i)
		uscc = uscc[:17]
		uscc += string(service.USCCCheckChar(uscc))
		w.Merchant[i] = e.must(201, "POST", "/api/v1/merchants", e.admin, map[string]any{"road_id": w.Road[i], "name": "张记烧烤" + c[1],
			"uscc": uscc, "phone": "13853312345", "owner_name": "张三", "category": "餐饮"}).id()
		pw := "password-" + c[0]
		e.must(201, "POST", "/api/v1/users", e.admin, map[string]any{"username": "admin" + c[0], "password": pw, "role": "county_admin", "county_id": w.County[i]})
		w.Admin[i] = e.login("admin"+c[0], pw)
		w.OfficerID[i] = e.must(201, "POST", "/api/v1/users", w.Admin[i], map[string]any{"username": "officer" + c[0], "password": pw, "role": "officer", "county_id": w.County[i]}).id()
		w.Officer[i] = e.login("officer"+c[0], pw)
		e.must(201, "POST", "/api/v1/users", w.Admin[i], map[string]any{"username": "shop" + c[0], "password": pw, "role": "merchant", "merchant_id": w.Merchant[i]})
		w.Shop[i] = e.login("shop"+c[0], pw)
		w.Photo[i] = e.uploadPhoto(w.Officer[i], tinyPNG(i)).id()
	}
	return w
}

// uploadPhoto posts a photo as an officer's phone does.
func (e *env) uploadPhoto(token string, data []byte) resp {
	e.t.Helper()
	return e.postMultipart("/api/v1/photos", token, "file", "photo.png", "image/png", data)
}

// snapshot counts the rows of every table, to prove bad input stored nothing.
func (e *env) snapshot() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"counties", "roads", "merchants", "users", "road_officers", "photos", "inspections", "ledger_entries", "scores", "notices"} {
		var n int64
		if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		out[tbl] = n
	}
	var sum sql0
	e.db.SQL().QueryRow("SELECT COALESCE(SUM(deductions),0), COALESCE(SUM(bonuses),0), COALESCE(SUM(score),0) FROM scores").Scan(&sum.a, &sum.b, &sum.c)
	out["scores.sum"] = sum.a*1_000_000 + sum.b*1000 + sum.c
	return out
}

type sql0 struct{ a, b, c int64 }

// checkClean runs the ledger consistency check and fails on any mismatch.
func (e *env) checkClean() {
	e.t.Helper()
	bad, _, err := e.svc.Check(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	if len(bad) > 0 {
		e.t.Fatalf("check: %d mismatches: %+v", len(bad), bad)
	}
}
