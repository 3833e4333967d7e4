package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/qrcodes/qrtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

const (
	plaquesTestSecret = "plaques-test-secret-0123456789"
	plaquesTestURL    = "https://mq.zibo.example"
)

// seedPlaquesDB makes a migrated SQLite file with county 370303: road 柳泉路
// with five merchants (one closed) and road 共青团路 with two. It returns the
// environment for run and the merchants by road.
func seedPlaquesDB(t *testing.T) (getenv func(string) string, byRoad map[string][]models.Merchant, roadID int64) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "menqian.db")
	db, err := models.Open(models.Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := service.New(service.Options{DB: db, Policy: policy.Default(), Secret: []byte(plaquesTestSecret), PublicURL: plaquesTestURL})
	city := service.Actor{Role: service.RoleCityAdmin}
	code, name := "370303", "张店区"
	c, err := svc.CreateCounty(ctx, city, service.CountyInput{Code: &code, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	byRoad = map[string][]models.Merchant{}
	for _, road := range []struct {
		name string
		n    int
	}{{"柳泉路", 5}, {"共青团路", 2}} {
		r, err := svc.CreateRoad(ctx, city, service.RoadInput{CountyID: &c.ID, Name: &road.name})
		if err != nil {
			t.Fatal(err)
		}
		if road.name == "柳泉路" {
			roadID = r.ID
		}
		for i := range road.n {
			name := fmt.Sprintf("%s商户%d", road.name, i)
			m, err := svc.CreateMerchant(ctx, city, service.MerchantInput{RoadID: &r.ID, Name: &name})
			if err != nil {
				t.Fatal(err)
			}
			if road.name == "柳泉路" && i == 2 {
				closed := "closed"
				if _, err := svc.UpdateMerchant(ctx, city, m.ID, service.MerchantInput{Status: &closed}); err != nil {
					t.Fatal(err)
				}
				continue
			}
			byRoad[road.name] = append(byRoad[road.name], m)
		}
	}
	env := map[string]string{"MENQIAN_SQLITE_PATH": path, "MENQIAN_SECRET": plaquesTestSecret,
		"MENQIAN_PUBLIC_URL": plaquesTestURL, "MENQIAN_PHOTO_DIR": filepath.Join(dir, "photos")}
	return func(k string) string { return env[k] }, byRoad, roadID
}

// checkPlaquesZip opens a written ZIP and checks it holds exactly one
// decodable "<code>.png" per merchant of want, encoding its plaque URL.
func checkPlaquesZip(t *testing.T, path string, want []models.Merchant) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer zr.Close()
	signer := qrcodes.NewSigner([]byte(plaquesTestSecret))
	urls := map[string]string{}
	for _, m := range want {
		urls[m.Code+".png"] = qrcodes.PlaqueURL(plaquesTestURL, signer.Token(m.Code, m.QRGeneration))
	}
	for _, f := range zr.File {
		url, ok := urls[f.Name]
		if !ok {
			t.Errorf("unexpected entry %q", f.Name)
			continue
		}
		delete(urls, f.Name)
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		text, _, err := qrtest.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if text != url {
			t.Errorf("%s decodes to %q, want %q", f.Name, text, url)
		}
	}
	for name := range urls {
		t.Errorf("missing entry %s", name)
	}
}

func TestPlaquesCommand(t *testing.T) {
	t.Parallel()
	getenv, byRoad, roadID := seedPlaquesDB(t)
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "plaques.zip")

	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"plaques", "--county", "370303", "--out", out, "--size", "256"}, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("plaques: %v\n%s", err, stderr.String())
	}
	all := append(append([]models.Merchant{}, byRoad["柳泉路"]...), byRoad["共青团路"]...)
	checkPlaquesZip(t, out, all)
	if !regexp.MustCompile(`\r\[#{30}\] 6/6\n$`).MatchString(stderr.String()) || strings.Count(stderr.String(), "6/6") != 1 {
		t.Errorf("stderr lacks a finished progress bar:\n%q", stderr.String())
	}
	if !strings.Contains(stdout.String(), "wrote 6 plaques (256 px) to "+out) {
		t.Errorf("stdout %q", stdout.String())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*.tmp")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// One road, by name and by id.
	for _, road := range []string{"柳泉路", fmt.Sprint(roadID)} {
		out := filepath.Join(t.TempDir(), "road.zip")
		stdout.Reset()
		stderr.Reset()
		if err := run(ctx, []string{"plaques", "--county", "370303", "--road", road, "--out", out}, getenv, &stdout, &stderr); err != nil {
			t.Fatalf("plaques --road %s: %v", road, err)
		}
		checkPlaquesZip(t, out, byRoad["柳泉路"])
	}

	// Help and mistakes: nothing written.
	stdout.Reset()
	if err := run(ctx, []string{"plaques", "--help"}, getenv, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	for _, s := range []string{"Usage: menqian plaques", "-county", "-road", "-out", "-size"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("--help lacks %q:\n%s", s, stdout.String())
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.zip")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", bad}, "--county is required"},
		{[]string{"--county", "370303"}, "--out is required"},
		{[]string{"--county", "370303", "--out", bad, "--size", "64"}, "--size must be between"},
		{[]string{"--county", "999999", "--out", bad}, `no county with code "999999"`},
		{[]string{"--county", "370303", "--road", "无名路", "--out", bad}, "no road"},
		{[]string{"--county", "370303", "--road", "999", "--out", bad}, "no road"},
	} {
		err := run(ctx, append([]string{"plaques"}, c.args...), getenv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("plaques %v: error %v, want %q", c.args, err, c.want)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Errorf("plaques %v wrote %s", c.args, bad)
		}
	}
}
