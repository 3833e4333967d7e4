package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard/redistest"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/photostore/s3test"
	"github.com/menqian/menqian/service/policy"
)

// instance is a `menqian serve` process of the test's own: the test binary
// run as menqian (TestMain, MENQIAN_TEST_MAIN).
type instance struct {
	name   string
	base   string
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

// startInstance starts serve with env plus its own MENQIAN_ADDR; it does
// not wait (ready does), so two can start at the same moment.
func startInstance(t *testing.T, name string, env map[string]string) *instance {
	t.Helper()
	addr := freeAddr(t)
	in := &instance{name: name, base: "http://" + addr, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	in.cmd = exec.Command(os.Args[0], "serve")
	in.cmd.Env = []string{envTestMain + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "MENQIAN_ADDR=" + addr, "MENQIAN_DRAIN=0s"}
	for k, v := range env {
		in.cmd.Env = append(in.cmd.Env, k+"="+v)
	}
	in.cmd.Stdout, in.cmd.Stderr = in.stdout, in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		in.err = in.cmd.Wait()
		close(in.exited)
	}()
	t.Cleanup(func() {
		in.cmd.Process.Kill() // its own pid; a no-op once stopped
		<-in.exited
	})
	return in
}

// ready waits until the instance answers /readyz with 200.
func (in *instance) ready(t *testing.T) {
	t.Helper()
	waitFor(t, in.name+" ready", 60*time.Second, func() bool {
		select {
		case <-in.exited:
			t.Fatalf("%s exited before it was ready: %v\n%s", in.name, in.err, in.stderr.String())
		default:
		}
		r, err := http.Get(in.base + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
}

// stop sends SIGTERM and wants a clean exit, nothing the race detector
// saw, within 30 s.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30s of SIGTERM", in.name)
	}
	if in.err != nil || strings.Contains(in.stderr.String(), "DATA RACE") {
		t.Errorf("%s exited with %v\n%s", in.name, in.err, in.stderr.String())
	}
}

// api is one HTTP client of an instance (or of the seeding handler).
type api struct {
	t    *testing.T
	base string
}

// call sends a JSON request; want is the status it must answer.
func (c api) call(want int, method, path, token string, body any, headers ...string) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s%s: %d %s, want %d", method, c.base, path, res.StatusCode, raw, want)
	}
	return out
}

func (c api) login(user, password string) string {
	c.t.Helper()
	tok, _ := c.call(200, "POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": password})["token"].(string)
	return tok
}

// get returns a GET's status and body.
func (c api) get(path, token string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

// uploadPhoto posts data as an evidence photo and returns its id and SHA-256.
func (c api) uploadPhoto(token string, data []byte) (int64, string) {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "evidence.jpg")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+"/api/v1/photos", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		ID     int64  `json:"id"`
		SHA256 string `json:"sha256"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 201 || out.ID == 0 {
		c.t.Fatalf("photo upload to %s: %d %v %+v", c.base, res.StatusCode, err, out)
	}
	return out.ID, out.SHA256
}

// evidenceJPEG is a small camera-like JPEG, another for each seed.
func evidenceJPEG(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for x := range 96 {
		for y := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 3), uint8(x ^ y ^ seed*37), 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}

// twoInstanceWorld is what seedTwoInstances made.
type twoInstanceWorld struct {
	counties  [2]int64
	merchants []int64 // three on the first county's road
	other     int64   // the second county's shop
}

// seedTwoInstances migrates the database and fills it through the API of
// an app built as serve builds it, but serving in the test and running no
// background job, so that the instances' first closing of cycles finds
// counties and shops to freeze.
func seedTwoInstances(t *testing.T, env map[string]string) twoInstanceWorld {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, func(k string) string { return env[k] }, io.Discard, true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// The accounts' passwords at bcrypt's lowest cost, so that signing in,
	// here and on the instances (which check a hash at its own cost), is
	// quick under -race; and no board, so the instances build theirs.
	secret, err := service.LoadSecret(ctx, a.db, "")
	if err != nil {
		t.Fatal(err)
	}
	a.svc = service.New(service.Options{DB: a.db, Policy: a.policy, Secret: secret, Photos: a.photos, PublicURL: a.cfg.PublicURL,
		Logger: a.log, PasswordCost: bcrypt.MinCost})
	if _, _, err := a.svc.Bootstrap(ctx, faultAdminPW); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	c := api{t: t, base: srv.URL}
	admin := c.login("admin", faultAdminPW)
	id := func(out map[string]any) int64 { f, _ := out["id"].(float64); return int64(f) }
	var w twoInstanceWorld
	var roads [2]int64
	for i, cc := range [][2]string{{"370303", "张店区"}, {"370302", "淄川区"}} {
		w.counties[i] = id(c.call(201, "POST", "/api/v1/counties", admin, map[string]any{"code": cc[0], "name": cc[1]}))
		roads[i] = id(c.call(201, "POST", "/api/v1/roads", admin, map[string]any{"county_id": w.counties[i], "name": "柳泉路", "town": "车站街道"}))
	}
	shop := func(road int64, n int) int64 {
		return id(c.call(201, "POST", "/api/v1/merchants", admin, map[string]any{"road_id": road, "name": fmt.Sprintf("张记烧烤%d号店", n),
			"uscc": uscc(fmt.Sprintf("91370303%09d", 5000+n)), "phone": "13853312345", "category": "餐饮"}))
	}
	for n := range 3 {
		w.merchants = append(w.merchants, shop(roads[0], n+1))
	}
	w.other = shop(roads[1], 9)
	c.call(201, "POST", "/api/v1/users", admin, map[string]any{"username": "officer1", "password": faultOfficerPW, "role": "officer", "county_id": w.counties[0]})
	c.call(201, "POST", "/api/v1/users", admin, map[string]any{"username": "shop1", "password": faultOfficerPW, "role": "merchant", "merchant_id": w.merchants[0]})
	c.call(201, "POST", "/api/v1/users", admin, map[string]any{"username": "shop9", "password": faultOfficerPW, "role": "merchant", "merchant_id": w.other})
	return w
}

// TestTwoInstances runs the main journeys across two `menqian serve`
// processes on one MariaDB database, one Redis Cluster (three masters) and
// one S3 bucket (SeaweedFS), started at the same moment as a deployment's
// replicas are:
//
//   - an officer's photo uploaded to A is in the bucket (and nowhere on
//     disk), is the evidence of an inspection recorded on B, and the
//     merchant reads it, and its ledger entry naming it, through A (the
//     officer through B); another county's merchant cannot; one sign-in
//     serves on both;
//   - after each inspection on one instance, the shop's score and rank and
//     the county's leaderboard read at once on the other are the new ones,
//     served from the cluster;
//   - the background jobs run once: each cycle due to be closed is frozen
//     once, by one of them (one "cycle closed" line between the two logs,
//     one set of frozen county results), and the current cycle's leaderboards are
//     built once (the rebuild lock);
//   - both stop cleanly on SIGTERM and `menqian check` finds the database
//     consistent.
func TestTwoInstances(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	dsn := dbtest.MySQLDSN(t)
	// The migrations meanwhile the cluster and the S3 server start.
	migrated := make(chan error, 1)
	go func() {
		db, err := models.Open(models.Config{MySQLDSN: dsn})
		if err == nil {
			_, err = db.Migrate(ctx)
			db.Close()
		}
		migrated <- err
	}()
	cluster := redistest.StartCluster(t, 3, 0)
	srv := s3test.Shared(t)
	bucket := srv.Bucket(t)
	if err := <-migrated; err != nil {
		t.Fatalf("migrate: %v", err)
	}
	services := time.Since(start)
	photos, err := photostore.NewS3(bucket)
	if err != nil {
		t.Fatal(err)
	}
	localDir := filepath.Join(t.TempDir(), "photos") // must stay empty
	env := map[string]string{"MENQIAN_MYSQL_DSN": dsn, "MENQIAN_REDIS_URL": cluster.URL(), "MENQIAN_ADMIN_PASSWORD": faultAdminPW,
		"MENQIAN_PHOTO_DIR": localDir, "MENQIAN_MIGRATE": "off"}
	kv := s3test.Env(bucket)
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	w := seedTwoInstances(t, env)
	seeded := time.Since(start)

	// Both at once, as a rollout starts replicas.
	a, b := startInstance(t, "A", env), startInstance(t, "B", env)
	a.ready(t)
	b.ready(t)
	ready := time.Since(start)
	A, B := api{t: t, base: a.base}, api{t: t, base: b.base}
	// One sign-in serves on both (the secret generated once, in the database).
	officerA := A.login("officer1", faultOfficerPW)
	officerB := officerA

	// A photo uploaded to A is evidence on B, and the merchant reads it through A.
	jpg := evidenceJPEG(0)
	photo, sha := A.uploadPhoto(officerA, jpg)
	if n, err := photos.Size(ctx, sha); err != nil || n != int64(len(jpg)) {
		t.Fatalf("the photo in the bucket: %d bytes, %v; want %d", n, err, len(jpg))
	}
	scores := map[int64]int{w.merchants[0]: 100, w.merchants[1]: 100, w.merchants[2]: 100}
	inspect := func(c api, token, key string, merchant int64, rule string, points int, photos ...int64) {
		t.Helper()
		if photos == nil {
			photos = []int64{}
		}
		out := c.call(201, "POST", "/api/v1/inspections", token, map[string]any{"merchant_id": merchant,
			"items": []map[string]any{{"rule_code": rule, "points": points}}, "photos": photos}, "Idempotency-Key", key)
		scores[merchant] -= points
		if got, _ := out["score"].(map[string]any)["score"].(float64); int(got) != scores[merchant] {
			t.Fatalf("inspection %s: score %v, want %d", key, out["score"], scores[merchant])
		}
	}
	inspect(B, officerB, "two-evidence", w.merchants[0], "HJWS-01", 3, photo)

	shopA := B.login("shop1", faultOfficerPW) // signed in on B, reading on A
	path := fmt.Sprintf("/api/v1/photos/%d", photo)
	if status, body := A.get(path, shopA); status != 200 || !bytes.Equal(body, jpg) {
		t.Errorf("the merchant reads its evidence through A: %d, %d bytes; want 200 and the upload's %d", status, len(body), len(jpg))
	}
	if status, body := B.get(path, officerB); status != 200 || !bytes.Equal(body, jpg) {
		t.Errorf("the officer reads it through B: %d, %d bytes; want 200 and the upload's %d", status, len(body), len(jpg))
	}
	ledger := A.call(200, "GET", fmt.Sprintf("/api/v1/merchants/%d/ledger", w.merchants[0]), shopA, nil)
	items, _ := ledger["items"].([]any)
	if len(items) != 1 || fmt.Sprint(items[0].(map[string]any)["photos"]) != fmt.Sprintf("[%d]", photo) {
		t.Errorf("the merchant's ledger on A: %v, want one entry with photo %d", ledger["items"], photo)
	}
	if status, _ := B.get(path, A.login("shop9", faultOfficerPW)); status != 404 {
		t.Errorf("another county's merchant opens the photo on B: %d, want 404", status)
	}

	// A rank after an inspection on one instance is fresh on the other.
	for i, step := range []struct {
		on       string
		merchant int64
		points   int
	}{{"A", w.merchants[1], 4}, {"B", w.merchants[2], 5}, {"A", w.merchants[0], 3}, {"B", w.merchants[1], 8}} {
		writer, reader, token, readerToken := A, B, officerA, officerB
		if step.on == "B" {
			writer, reader, token, readerToken = B, A, officerB, officerA
		}
		// Each deduction with its photo, uploaded to the instance that records it.
		evidence, _ := writer.uploadPhoto(token, evidenceJPEG(i+1))
		inspect(writer, token, fmt.Sprintf("two-rank-%d", i), step.merchant, "ZXLH-01", step.points, evidence)
		want := 1
		for m, s := range scores {
			if m != step.merchant && s > scores[step.merchant] {
				want++
			}
		}
		rank := reader.call(200, "GET", fmt.Sprintf("/api/v1/merchants/%d/rank", step.merchant), readerToken, nil)
		county, _ := rank["county"].(map[string]any)
		if rank["score"] != float64(scores[step.merchant]) || county["rank"] != float64(want) || county["of"] != float64(3) {
			t.Errorf("step %d: read on the other instance right after the inspection on %s: %v, want score %d, county rank %d of 3",
				i, step.on, rank, scores[step.merchant], want)
		}
		board := reader.call(200, "GET", fmt.Sprintf("/api/v1/leaderboards/merchants?scope=county&id=%d", w.counties[0]), readerToken, nil)
		var got, wantOrder []int64
		for _, it := range board["items"].([]any) {
			f, _ := it.(map[string]any)["merchant_id"].(float64)
			got = append(got, int64(f))
		}
		wantOrder = slices.Clone(w.merchants)
		slices.SortFunc(wantOrder, func(x, y int64) int { return scores[y] - scores[x] })
		if !slices.Equal(got, wantOrder) {
			t.Errorf("step %d: the county's leaderboard on the other instance: %v, want %v (scores %v)", i, got, wantOrder, scores)
		}
	}
	if keys := cluster.Keys(fmt.Sprintf("lb:{c:%d}:*", w.counties[0])); len(keys) == 0 {
		t.Error("no leaderboard keys of the county in the cluster: the ranks did not come from Redis")
	}

	journeys := time.Since(start)
	a.stop(t)
	b.stop(t)

	// The background jobs ran once between the two.
	logs := a.stderr.String() + b.stderr.String()
	pol := policy.Default()
	now := time.Now()
	var due []string
	for i := 3; i >= 1; i-- {
		if c := pol.CycleOf(now).Add(-i); pol.IsClosed(c, now) {
			due = append(due, c.String())
		}
	}
	db := openFaultDB(t, dsn)
	var closed []string
	rows, err := db.SQL().Query("SELECT cycle FROM closed_cycles ORDER BY cycle")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		closed = append(closed, c)
	}
	rows.Close()
	if len(due) == 0 || !slices.Equal(closed, due) {
		t.Errorf("closed cycles %v, want the due ones %v", closed, due)
	}
	for _, c := range due {
		if n := strings.Count(logs, `"msg":"cycle closed","cycle":"`+c+`"`); n != 1 {
			t.Errorf("cycle %s closed %d times between the two instances' logs, want once", c, n)
		}
		var frozen int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM cycle_county_results WHERE cycle = ?", c).Scan(&frozen); err != nil || frozen != 2 {
			t.Errorf("cycle %s: %d frozen county results (%v), want the 2 counties once", c, frozen, err)
		}
	}
	cur := pol.CycleOf(now).String()
	if n := strings.Count(logs, `"msg":"leaderboard: rebuilt","cycle":"`+cur+`"`); n != 1 {
		t.Errorf("the leaderboards of %s were built %d times between the two instances, want once", cur, n)
	}
	if entries, err := os.ReadDir(localDir); err == nil && len(entries) > 0 {
		t.Errorf("photos written to the local directory %s: %v", localDir, entries)
	}
	checkClean(t, env)
	t.Logf("database migrated, cluster and bucket ready at %v, seeded at %v, both instances ready at %v, journeys done at %v, stopped and checked at %v",
		services.Round(time.Millisecond), seeded.Round(time.Millisecond), ready.Round(time.Millisecond), journeys.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("A's log:\n%s\nB's log:\n%s", a.stderr.String(), b.stderr.String())
	}
}
