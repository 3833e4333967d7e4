package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// `menqian load` is the benchmark of issue 13: it seeds a city (or reuses
// the one it seeded before), serves it in process exactly as `serve` does,
// records inspections in the first county at a steady rate, and meanwhile
// measures each read of the product with wrk against a bare Gin handler
// serving a body of the same size and type, in the same run. Everything it
// measures goes through HTTP, so it measures whatever the code is.

// loadSetting names the settings row a seeded database keeps about itself:
// the size it was seeded at and the password of its accounts (a load
// database only; load refuses any database it did not seed).
const loadSetting = "menqian_load"

// loadSeed is the value of the loadSetting row.
type loadSeed struct {
	Counties int       `json:"counties"`
	Shops    int       `json:"shops"`              // per county
	Roads    int       `json:"roads"`              // per county
	Officers int       `json:"officers,omitempty"` // per county; 0: loadOfficers (seeded before it was a flag)
	Accounts int       `json:"accounts,omitempty"` // merchant accounts per county; 0: loadAccounts
	Password string    `json:"password"`
	Seeded   time.Time `json:"seeded"`
	// Mixed: seeded for -mixed, with shops registered a year back and a
	// month four back, so that a run has a finished month to close.
	Mixed bool `json:"mixed,omitempty"`
}

// officers is the seed's officers per county.
func (s loadSeed) officers() int {
	if s.Officers == 0 {
		return min(loadOfficers, s.Roads)
	}
	return s.Officers
}

// loadOptions are the command's flags.
type loadOptions struct {
	counties, shops, roads int
	officers, accounts     int // per county
	reuse                  bool
	writeRate              float64
	duration, warmup       time.Duration
	threads, connections   int
	only                   *regexp.Regexp
	seed                   uint64
	cpuProfiles            string

	mix mixOptions // -mixed
}

// Sizes of each county's cast, bounded by its roads and shops.
const (
	loadOfficers   = 10 // officers per county by default (-mixed: 100), each responsible for every 10th road
	loadDemoRoads  = 10 // designated demonstration roads per county
	loadAccounts   = 5  // merchant accounts per county by default (-mixed: 100), on its first road
	loadAppeals    = 3  // of them appeal a deduction (pending)
	loadCodePrefix = "89"
)

func cmdLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("load", "Seed a city (or reuse the one load seeded before), serve it in process as serve does, record\n"+
		"inspections in the first county and measure every read under wrk as a ratio to a bare Gin handler\n"+
		"serving a body of the same size (issue 13). The database and Redis are the MENQIAN_* ones; load\n"+
		"refuses a database with counties it did not seed. Needs wrk (apt-get install wrk).", stdout)
	var o loadOptions
	fs.IntVar(&o.counties, "counties", 4, "counties to seed")
	fs.IntVar(&o.shops, "shops", 20000, "shops per county")
	fs.IntVar(&o.roads, "roads", 100, "roads per county")
	fs.BoolVar(&o.reuse, "reuse", false, "reuse the city an earlier load seeded in this database (its size flags are ignored)")
	fs.Float64Var(&o.writeRate, "write-rate", 10, "inspections per second recorded in the first county during the reads (0: none)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "each measurement's length; wrk counts whole seconds, so a shorter one\nmeasures with a built-in Go client instead (smoke runs)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load on each read before it is measured (0: none)")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads (-t)")
	fs.IntVar(&o.connections, "connections", 64, "connections (wrk -c)")
	only := fs.String("only", "", "measure only the reads whose name matches this regular expression")
	fs.Uint64Var(&o.seed, "seed", 13, "random seed of the seeded data and the writes")
	fs.StringVar(&o.cpuProfiles, "cpuprofile", "", "write a CPU profile of each read's measurement (not its baseline) into this directory")
	fs.IntVar(&o.officers, "officers", 0, "officers per county to seed (0: 10, or 100 with -mixed)")
	fs.IntVar(&o.accounts, "accounts", 0, "merchant accounts per county to seed, on its first road (0: 5, or 100 with -mixed)")
	fs.BoolVar(&o.mix.on, "mixed", false, "run a city's busy hour instead, compressed into -mix-duration, against -instances\n"+
		"serve processes of this binary (menqian serve), then the reads as without it (see README)")
	fs.DurationVar(&o.mix.duration, "mix-duration", 5*time.Minute, "-mixed: how long the busy hour is compressed into")
	fs.IntVar(&o.mix.instances, "instances", 2, "-mixed: serve processes, sent requests in turn")
	fs.Float64Var(&o.mix.scale, "scale", 1, "-mixed: multiplies the busy hour's traffic")
	fs.Float64Var(&o.mix.rate, "mix-rate", 0, "-mixed: every journey at this many a second instead of the busy hour's (smoke runs)")
	fs.BoolVar(&o.mix.baselines, "baselines", true, "-mixed: after the mix, measure the reads against their bare baselines as without -mixed")
	skip := fs.String("skip", "", "-mixed: leave out the journeys whose name matches this regular expression")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.officers == 0 {
		o.officers = loadOfficers
		if o.mix.on {
			o.officers = 100
		}
		o.officers = min(o.officers, max(o.roads, 1))
	}
	if o.accounts == 0 {
		o.accounts = loadAccounts
		if o.mix.on {
			o.accounts = 100
		}
		o.accounts = min(o.accounts, max(o.shops/max(o.roads, 1), 1))
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("load: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.counties < 1 || o.counties > 99:
		return errors.New("load: -counties must be between 1 and 99")
	case o.roads < 1 || o.roads > 999:
		return errors.New("load: -roads must be between 1 and 999")
	case o.shops < o.roads || o.shops > 999_999:
		return errors.New("load: -shops must be at least -roads and below a million")
	case o.writeRate < 0:
		return errors.New("load: -write-rate must not be negative")
	case o.duration <= 0 || o.threads < 1 || o.connections < o.threads:
		return errors.New("load: -duration must be positive and -connections at least -threads")
	case o.officers < 1 || o.officers > o.roads:
		return errors.New("load: -officers must be between 1 and -roads (every officer has a road)")
	case o.accounts < 1 || o.accounts > o.shops/o.roads:
		return errors.New("load: -accounts must be between 1 and the shops of a road (-shops / -roads)")
	case o.mix.on && (o.mix.duration < time.Second || o.mix.instances < 1 || o.mix.instances > 16 || o.mix.scale <= 0 || o.mix.rate < 0):
		return errors.New("load: -mixed wants -mix-duration of a second or more, 1 to 16 -instances, a positive -scale and a -mix-rate not negative")
	}
	if *skip != "" {
		re, err := regexp.Compile(*skip)
		if err != nil {
			return fmt.Errorf("load: -skip: %v", err)
		}
		o.mix.skip = re
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("load: -only: %v", err)
		}
		o.only = re
	}
	if o.duration >= time.Second && (!o.mix.on || o.mix.baselines) {
		if _, err := exec.LookPath("wrk"); err != nil {
			return errors.New("load: wrk is not installed (apt-get install wrk)")
		}
	}
	start := time.Now()
	seed, seeding, err := prepareLoad(ctx, o, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	if o.mix.on {
		return runMixed(ctx, o, seed, getenv, stdout, stderr, start, seeding)
	}
	return runLoad(ctx, o, seed, getenv, stdout, stderr, start, seeding)
}

// prepareLoad seeds an empty database, or finds the city an earlier load
// seeded when -reuse allows it; it returns the seed and how long seeding took.
func prepareLoad(ctx context.Context, o loadOptions, getenv func(string) string, stdout, stderr io.Writer) (loadSeed, time.Duration, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return loadSeed{}, 0, err
	}
	a, err := openApp(ctx, getenv, stderr, cfg.Migrate)
	if err != nil {
		return loadSeed{}, 0, err
	}
	defer a.Close()
	seed, seeded, err := loadSeedOf(ctx, a.db)
	if err != nil {
		return loadSeed{}, 0, err
	}
	counties, err := a.db.ListCounties(ctx, nil)
	if err != nil {
		return loadSeed{}, 0, err
	}
	switch {
	case seeded && o.reuse && o.mix.on && !seed.Mixed:
		return loadSeed{}, 0, errors.New("load: -mixed: this city was seeded without -mixed and has no finished month to close mid-run; seed an empty database with -mixed")
	case seeded && o.reuse:
		fmt.Fprintf(stdout, "Reusing the city load seeded at %s: %d counties × %d shops (%d roads, %d officers each).\n",
			seed.Seeded.Local().Format(time.DateTime), seed.Counties, seed.Shops, seed.Roads, seed.officers())
		return seed, 0, nil
	case seeded:
		return loadSeed{}, 0, errors.New("load: this database holds the city an earlier load seeded; pass -reuse to measure it again")
	case len(counties) > 0:
		return loadSeed{}, 0, errors.New("load: the database already has counties load did not seed; load seeds only an empty database (refusing)")
	}
	if err := a.checkPhotos(ctx); err != nil {
		return loadSeed{}, 0, err
	}
	start := time.Now()
	fmt.Fprintf(stdout, "Seeding %d counties × %d shops (%d roads, %d officers, %d merchant accounts each) into %s…\n",
		o.counties, o.shops, o.roads, o.officers, o.accounts, a.db.Dialect())
	seed, err = seedLoad(ctx, a, o)
	if err != nil {
		return loadSeed{}, 0, err
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "Seeded in %s.\n", took.Round(100*time.Millisecond))
	return seed, took, nil
}

// loadSeedOf reads the loadSetting row, without creating it.
func loadSeedOf(ctx context.Context, db *models.DB) (loadSeed, bool, error) {
	var v string
	err := db.SQL().QueryRowContext(ctx, "SELECT value FROM settings WHERE name = ?", loadSetting).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return loadSeed{}, false, nil
	}
	if err != nil {
		return loadSeed{}, false, err
	}
	var s loadSeed
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return loadSeed{}, false, fmt.Errorf("settings %s: %v", loadSetting, err)
	}
	return s, true, nil
}

// Names of what load seeds, found again by them when it measures.
func loadCountyCode(i int) string           { return fmt.Sprintf("%s%04d", loadCodePrefix, i+1) }
func loadCountyName(i int) string           { return fmt.Sprintf("压测%d区", i+1) }
func loadRoadName(i int) string             { return fmt.Sprintf("压测路%03d", i+1) }
func loadAdminName(c int) string            { return fmt.Sprintf("load%dadmin", c+1) }
func loadOfficerName(c, k int) string       { return fmt.Sprintf("load%dofficer%02d", c+1, k+1) }
func loadAccountName(c, k int) string       { return fmt.Sprintf("load%dshop%d", c+1, k+1) }
func loadUSCC(c, n int) string              { return uscc(fmt.Sprintf("92%s%09d", loadCountyCode(c), n)) }
func uscc(first17 string) string            { return first17 + string(service.USCCCheckChar(first17)) }
func loadKey(cycle string, id int64) string { return fmt.Sprintf("load-seed-%s-%d", cycle, id) }

const loadCityAdmin = "loadcity"

// loadBand is how a shop does in one month.
type loadBand int

const (
	loadTop loadBand = iota
	loadGood
	loadFair
	loadPoor
	loadWatch
)

// loadSeeder writes the city: accounts, roads and demonstration statuses
// through the service; shops, inspections, ledger and scores in bulk
// through models, one transaction per road, agreeing as the service would
// have written them; notices through models (they are dated in the past).
type loadSeeder struct {
	o          loadOptions
	db         *models.DB
	svc        *service.Service
	pol        *policy.Policy
	now        time.Time
	cur        policy.Cycle
	prev       policy.Cycle
	months     []policy.Cycle // seeded with inspections: prev and cur (-mixed: and the month four back)
	registered time.Time      // when the shops were registered
	city       service.Actor
	password   string
	deduct     []policy.Item // deductions that are not serious
	bonus      []policy.Item // bonuses but the honour
}

// loadCounty is one seeded county.
type loadCounty struct {
	i        int
	id       int64
	admin    service.Actor
	officers []service.Actor
	roads    []models.Road
	accounts []service.Actor
	shops    []int64 // the first road's first shops, which get accounts
}

func seedLoad(ctx context.Context, a *app, o loadOptions) (loadSeed, error) {
	secret, err := service.LoadSecret(ctx, a.db, a.cfg.Secret)
	if err != nil {
		return loadSeed{}, err
	}
	pw, err := service.RandomPassword()
	if err != nil {
		return loadSeed{}, err
	}
	now := time.Now()
	s := &loadSeeder{o: o, db: a.db, pol: a.policy, now: now, password: pw,
		// The lowest bcrypt cost: these accounts only ever sign in for load.
		svc: service.New(service.Options{DB: a.db, Policy: a.policy, Secret: secret, Photos: a.photos,
			PublicURL: a.cfg.PublicURL, Logger: a.log, PasswordCost: bcrypt.MinCost}),
		city: service.Actor{Role: service.RoleCityAdmin}}
	s.cur = a.policy.CycleOf(now)
	s.prev = s.cur.Prev()
	s.months = []policy.Cycle{s.prev, s.cur}
	s.registered = a.policy.CycleStart(s.prev).Add(9 * time.Hour)
	if o.mix.on {
		// A year of registered shops, and the month four back inspected:
		// serving instances close the last three months by themselves,
		// so the month a -mixed run closes mid-run is older (mixCloseCycle).
		s.months = []policy.Cycle{s.cur.Add(-mixCloseBack), s.prev, s.cur}
		s.registered = a.policy.CycleStart(s.cur.Add(-12)).Add(9 * time.Hour)
	}
	for _, it := range a.policy.Items {
		switch {
		case it.Kind == policy.Deduction && !it.Serious:
			s.deduct = append(s.deduct, it)
		case it.Kind == policy.Bonus && it.Code != "BONUS-04":
			s.bonus = append(s.bonus, it)
		}
	}
	if _, err := s.svc.CreateUser(ctx, s.city, service.UserInput{Username: loadCityAdmin, Password: pw, Role: service.RoleCityAdmin,
		DisplayName: "压测市级管理员"}); err != nil {
		return loadSeed{}, fmt.Errorf("load: city admin: %w", err)
	}
	counties := make([]*loadCounty, o.counties)
	for i := range counties {
		if counties[i], err = s.register(ctx, i); err != nil {
			return loadSeed{}, err
		}
	}
	// The shops, county by county; MariaDB takes the counties together (a
	// county's writes queue on its version row, different counties' do not).
	parallel := 1
	if a.db.Dialect() == models.MySQL {
		parallel = 4
	}
	errs := make([]error, len(counties))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, c := range counties {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = s.shops(ctx, c)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return loadSeed{}, err
	}
	for _, c := range counties {
		if err := s.finish(ctx, c); err != nil {
			return loadSeed{}, err
		}
	}
	// The months whose grace period is over are closed now, as a serving
	// instance would do at its start, rather than during the measurement.
	if _, err := s.svc.CloseDueCycles(ctx); err != nil {
		return loadSeed{}, fmt.Errorf("load: closing past cycles: %w", err)
	}
	seed := loadSeed{Counties: o.counties, Shops: o.shops, Roads: o.roads, Officers: o.officers, Accounts: o.accounts, Password: pw,
		Seeded: now.UTC().Truncate(time.Second), Mixed: o.mix.on}
	v, _ := json.Marshal(seed)
	if _, err := a.db.SettingOrCreate(ctx, loadSetting, string(v)); err != nil {
		return loadSeed{}, err
	}
	return seed, nil
}

// register creates a county, its admin and officers and its roads.
func (s *loadSeeder) register(ctx context.Context, i int) (*loadCounty, error) {
	code, name := loadCountyCode(i), loadCountyName(i)
	county, err := s.svc.CreateCounty(ctx, s.city, service.CountyInput{Code: &code, Name: &name})
	if err != nil {
		return nil, fmt.Errorf("load: county %s: %w", name, err)
	}
	c := &loadCounty{i: i, id: county.ID}
	user := func(username, role, display string) (service.Actor, error) {
		u, err := s.svc.CreateUser(ctx, s.city, service.UserInput{Username: username, Password: s.password, Role: role,
			CountyID: &c.id, DisplayName: display})
		if err != nil {
			return service.Actor{}, fmt.Errorf("load: account %s: %w", username, err)
		}
		return service.Actor{UserID: u.ID, Username: u.Username, Role: role, CountyID: c.id}, nil
	}
	if c.admin, err = user(loadAdminName(i), service.RoleCountyAdmin, name+"城管局"); err != nil {
		return nil, err
	}
	for k := range s.o.officers {
		off, err := user(loadOfficerName(i, k), service.RoleOfficer, demoSurnames[k%len(demoSurnames)]+"巡查员")
		if err != nil {
			return nil, err
		}
		c.officers = append(c.officers, off)
	}
	for r := range s.o.roads {
		rn, town, length := loadRoadName(r), fmt.Sprintf("压测%d街道", r%7+1), 500+(r*137)%2000
		offs := []int64{c.officers[r%len(c.officers)].UserID}
		road, err := s.svc.CreateRoad(ctx, s.city, service.RoadInput{CountyID: &c.id, Name: &rn, Town: &town, LengthM: &length, OfficerIDs: &offs})
		if err != nil {
			return nil, fmt.Errorf("load: road %s: %w", rn, err)
		}
		c.roads = append(c.roads, road.Road)
	}
	return c, nil
}

// shops registers a county's shops road by road with this month's and last
// month's inspections, ledger entries and scores.
func (s *loadSeeder) shops(ctx context.Context, c *loadCounty) error {
	registered := s.registered
	n := 0
	for r, road := range c.roads {
		count := s.o.shops / s.o.roads
		if r < s.o.shops%s.o.roads {
			count++
		}
		rng := rand.New(rand.NewPCG(s.o.seed, uint64(c.i)<<32|uint64(r)))
		var ids []int64
		err := s.db.InTx(ctx, func(ctx context.Context) error {
			var err error
			ids, err = s.road(ctx, rng, c, r, road, n, count, registered)
			return err
		})
		if err != nil {
			return fmt.Errorf("load: shops of %s %s: %w", loadCountyName(c.i), road.Name, err)
		}
		if r == 0 {
			c.shops = ids[:min(s.o.accounts, len(ids))]
		}
		n += count
	}
	return nil
}

// road writes one road's shops and their two months, in the caller's transaction.
func (s *loadSeeder) road(ctx context.Context, rng *rand.Rand, c *loadCounty, r int, road models.Road, first, count int, registered time.Time) ([]int64, error) {
	demo := r < loadDemoRoads
	ms := make([]models.Merchant, count)
	for k := range ms {
		code, err := qrcodes.NewCode()
		if err != nil {
			return nil, err
		}
		j := rng.IntN(len(demoShops))
		number := 2*k + 1
		owner := demoSurnames[rng.IntN(len(demoSurnames))] + []string{"先生", "女士"}[rng.IntN(2)]
		lat := 36.80 + 0.01*float64(c.i) + 0.0004*float64(r%50) + 0.00002*float64(k)
		lng := 118.02 + 0.01*float64(c.i) + 0.0005*float64(r/50) + 0.00002*float64(k)
		id := loadUSCC(c.i, first+k)
		ms[k] = models.Merchant{Code: code, CountyID: c.id, RoadID: road.ID, Status: "active", QRGeneration: 1,
			Name:     fmt.Sprintf("%s（%s%d号）", demoShops[j], road.Name, number),
			USCC:     &id,
			Category: demoCategories[j], OwnerName: owner, Phone: fmt.Sprintf("13%d%08d", 5+rng.IntN(5), rng.IntN(100_000_000)),
			Address: fmt.Sprintf("%s%s%d号", loadCountyName(c.i), road.Name, number), Lat: &lat, Lng: &lng,
			CreatedAt: registered, UpdatedAt: registered}
	}
	chunk := 50 // the SQLite driver's cost grows with the square of a statement's parameters
	if s.db.Dialect() == models.MySQL {
		chunk = 500
	}
	if err := s.db.CreateMerchants(ctx, ms); err != nil {
		return nil, err
	}
	officer := c.officers[r%len(c.officers)].UserID
	type plan struct {
		m     int // index in ms
		cycle policy.Cycle
		at    time.Time
		items []loadItem
	}
	var plans []plan
	for k := range ms {
		account := r == 0 && k < s.o.accounts
		for _, cyc := range s.months {
			skip := 0.03 // of last month's
			if cyc == s.cur {
				skip = 0.12 // this month's patrols are not through yet
			}
			if demo {
				skip = 0
				if r == 3 && cyc == s.cur {
					skip = 0.05 // one designated road has shops still to inspect
				}
			}
			if account {
				skip = 0 // and a deduction lately, to appeal
			}
			if rng.Float64() < skip {
				continue
			}
			serious := !demo && rng.IntN(500) == 0 || demo && r == 4 && k == 0 && cyc == s.cur
			at := s.when(rng, cyc)
			if account && cyc == s.cur {
				at = s.recent()
			}
			plans = append(plans, plan{m: k, cycle: cyc, at: at, items: s.items(rng, s.band(rng, demo), serious, account)})
		}
	}
	ins := make([]models.Inspection, len(plans))
	for i, p := range plans {
		delta := 0
		for _, it := range p.items {
			delta += it.points
		}
		at := p.at.UTC().Truncate(time.Millisecond)
		ins[i] = models.Inspection{MerchantID: ms[p.m].ID, OfficerID: officer, Cycle: p.cycle.String(), InspectedAt: at, Delta: delta,
			Note: demoInspectionNotes[rng.IntN(len(demoInspectionNotes))], IdempotencyKey: loadKey(p.cycle.String(), ms[p.m].ID),
			RequestHash: "0", Response: "{}", CreatedAt: at}
	}
	for i := 0; i < len(ins); i += chunk {
		if err := s.db.CreateInspections(ctx, ins[i:min(i+chunk, len(ins))]); err != nil {
			return nil, err
		}
	}
	var ledger []models.LedgerEntry
	var scores []models.Score
	for i, p := range plans {
		var t policy.Tally
		for _, it := range p.items {
			kind := models.KindDeduction
			if it.points > 0 {
				kind = models.KindBonus
				t.Bonuses += it.points
			} else {
				t.Deductions -= it.points
			}
			if it.serious {
				t.Serious++
			}
			notes := demoItemNotes[it.rule]
			ledger = append(ledger, models.LedgerEntry{MerchantID: ms[p.m].ID, Cycle: p.cycle.String(), Kind: kind, CountsAs: kind,
				Points: it.points, Serious: it.serious, RuleCode: it.rule, InspectionID: &ins[i].ID, AuthorID: officer,
				Note: notes[rng.IntN(len(notes))], OccurredAt: ins[i].InspectedAt, CreatedAt: ins[i].InspectedAt})
		}
		scores = append(scores, models.Score{MerchantID: ms[p.m].ID, Cycle: p.cycle.String(), Deductions: t.Deductions,
			Bonuses: t.Bonuses, Serious: t.Serious, Score: s.pol.Score(t), Entries: len(p.items)})
	}
	for i := 0; i < len(ledger); i += chunk {
		if err := s.db.AppendLedger(ctx, ledger[i:min(i+chunk, len(ledger))]); err != nil {
			return nil, err
		}
	}
	for i := 0; i < len(scores); i += chunk {
		if err := s.db.SetScores(ctx, scores[i:min(i+chunk, len(scores))]); err != nil {
			return nil, err
		}
	}
	ids := make([]int64, len(ms))
	for k, m := range ms {
		ids[k] = m.ID
	}
	return ids, nil
}

// band draws a shop's month: designated roads have good shops.
func (s *loadSeeder) band(rng *rand.Rand, demo bool) loadBand {
	x := rng.Float64()
	if demo {
		switch {
		case x < 0.6:
			return loadTop
		case x < 0.97:
			return loadGood
		}
		return loadFair
	}
	switch {
	case x < 0.40:
		return loadTop
	case x < 0.75:
		return loadGood
	case x < 0.92:
		return loadFair
	case x < 0.98:
		return loadPoor
	}
	return loadWatch
}

// loadItem is one catalogue item found: signed points.
type loadItem struct {
	rule    string
	points  int
	serious bool
}

// items draws what an inspection in a band finds, each rule at most once:
// the top shops mostly bonuses, the weak ones many deductions near their
// maximum; always at least one item, and a deduction when deduct is set.
func (s *loadSeeder) items(rng *rand.Rand, band loadBand, serious, deduct bool) []loadItem {
	var nd, nb int
	high := false
	switch band {
	case loadTop:
		nd, nb = rng.IntN(2)*rng.IntN(2), 1+rng.IntN(2)
	case loadGood:
		nd, nb = 1+rng.IntN(2), rng.IntN(2)
	case loadFair:
		nd, nb, high = 3+rng.IntN(2), rng.IntN(2), true
	case loadPoor:
		nd, high = 6+rng.IntN(3), true
	case loadWatch:
		nd, high = 11+rng.IntN(3), true
	}
	if deduct {
		nd = max(nd, 1)
	}
	var out []loadItem
	if serious {
		out = append(out, loadItem{rule: "ZXLH-05", points: -(10 + rng.IntN(3)), serious: true})
	}
	for _, k := range rng.Perm(len(s.deduct))[:min(nd, len(s.deduct))] {
		it := s.deduct[k]
		p := it.MinPoints + rng.IntN(it.MaxPoints-it.MinPoints+1)
		if high {
			p = max(p, (it.MinPoints+it.MaxPoints+1)/2)
		}
		out = append(out, loadItem{rule: it.Code, points: -p})
	}
	for _, k := range rng.Perm(len(s.bonus))[:min(nb, len(s.bonus))] {
		it := s.bonus[k]
		out = append(out, loadItem{rule: it.Code, points: it.MinPoints + rng.IntN(it.MaxPoints-it.MinPoints+1)})
	}
	if len(out) == 0 {
		it := s.bonus[rng.IntN(len(s.bonus))]
		out = append(out, loadItem{rule: it.Code, points: it.MinPoints})
	}
	return out
}

// when is a time within the cycle, up to a few minutes before now.
func (s *loadSeeder) when(rng *rand.Rand, c policy.Cycle) time.Time {
	from, to := s.pol.CycleStart(c), s.pol.CycleStart(c.Next())
	if limit := s.now.Add(-5 * time.Minute); to.After(limit) {
		to = limit
	}
	if !to.After(from) {
		to = s.now
	}
	return from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)) + 1)))
}

// recent is two hours ago, or halfway into the month if it began since.
func (s *loadSeeder) recent() time.Time {
	start := s.pol.CycleStart(s.cur)
	if at := s.now.Add(-2 * time.Hour); at.After(start) {
		return at
	}
	return start.Add(s.now.Sub(start) / 2)
}

// finish gives a county its merchant accounts and their appeals, its
// rectification notices and its demonstration roads.
func (s *loadSeeder) finish(ctx context.Context, c *loadCounty) error {
	for k, id := range c.shops {
		u, err := s.svc.CreateUser(ctx, s.city, service.UserInput{Username: loadAccountName(c.i, k), Password: s.password,
			Role: service.RoleMerchant, MerchantID: &id})
		if err != nil {
			return fmt.Errorf("load: merchant account: %w", err)
		}
		c.accounts = append(c.accounts, service.Actor{UserID: u.ID, Username: u.Username, Role: service.RoleMerchant, MerchantID: id})
	}
	for i, acc := range c.accounts[:min(loadAppeals, len(c.accounts))] {
		entries, err := s.db.LedgerOf(ctx, acc.MerchantID, s.cur.String())
		if err != nil {
			return err
		}
		k := slices.IndexFunc(entries, func(e models.LedgerEntry) bool { return e.Kind == models.KindDeduction && !e.Serious })
		if k < 0 {
			continue
		}
		if _, err := s.svc.FileAppeal(ctx, acc, acc.MerchantID, entries[k].ID, appealReasons[i%len(appealReasons)]); err != nil {
			return fmt.Errorf("load: appeal: %w", err)
		}
	}
	if err := s.notices(ctx, c); err != nil {
		return err
	}
	// Designated roads: the first ones accepted, then being built, then candidates.
	steps := map[int][]string{}
	for r := range min(loadDemoRoads, len(c.roads)) {
		switch {
		case r < 3:
			steps[r] = []string{service.DemoCandidate, service.DemoBuilding, service.DemoAccepted}
		case r < 6:
			steps[r] = []string{service.DemoCandidate, service.DemoBuilding}
		default:
			steps[r] = []string{service.DemoCandidate}
		}
	}
	for r := range min(loadDemoRoads, len(c.roads)) {
		for _, st := range steps[r] {
			if _, err := s.svc.SetDemonstration(ctx, c.admin, c.roads[r].ID, st, "压测示范路"); err != nil {
				return fmt.Errorf("load: demonstration road %s: %w", c.roads[r].Name, err)
			}
		}
	}
	return nil
}

// loadCandidate is a shop with a deduction this month, which a notice may concern.
type loadCandidate struct {
	id, road int64
	rule     string
}

// notices issues a county's rectification notices on its shops with a
// deduction this month: some open, a few overdue (one on a designated
// road), some reported fixed, some confirmed.
func (s *loadSeeder) notices(ctx context.Context, c *loadCounty) error {
	var cands []loadCandidate
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT m.id, m.road_id, MIN(e.rule_code) FROM merchants m
		JOIN ledger_entries e ON e.merchant_id = m.id AND e.cycle = ? AND e.kind = 'deduction'
		WHERE m.county_id = ? GROUP BY m.id, m.road_id ORDER BY m.id`, s.cur.String(), c.id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var x loadCandidate
		if err := rows.Scan(&x.id, &x.road, &x.rule); err != nil {
			rows.Close()
			return err
		}
		cands = append(cands, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	officerOf := map[int64]int64{}
	demoRoad := map[int64]bool{}
	for r, road := range c.roads {
		officerOf[road.ID] = c.officers[r%len(c.officers)].UserID
		demoRoad[road.ID] = r < loadDemoRoads
	}
	rng := rand.New(rand.NewPCG(s.o.seed, 1<<40|uint64(c.i)))
	rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	scale := max(1, s.o.shops/1000)
	kinds := []struct {
		n      int
		issued time.Duration // before now
		days   int
		what   string
	}{
		{min(20, 2*scale), 30 * time.Hour, 7, "open"},
		{min(8, scale), 6 * 24 * time.Hour, 3, "overdue"},
		{min(5, scale), 3 * 24 * time.Hour, 7, "reported"},
		{min(10, scale), 5 * 24 * time.Hour, 7, "rectified"},
	}
	overdueOnDemo := false
	var ns []models.Notice
	for _, k := range kinds {
		for range k.n {
			if len(cands) == 0 {
				break
			}
			i := 0
			if k.what == "overdue" && !overdueOnDemo {
				if j := slices.IndexFunc(cands, func(x loadCandidate) bool { return demoRoad[x.road] }); j >= 0 {
					i, overdueOnDemo = j, true
				}
			}
			x := cands[i]
			cands = slices.Delete(cands, i, i+1)
			issued := s.now.Add(-k.issued - time.Duration(rng.IntN(600))*time.Minute).UTC().Truncate(time.Millisecond)
			n := models.Notice{MerchantID: x.id, CountyID: c.id, RuleCode: x.rule, Note: "请于期限内整改：" + demoRuleName(s.pol, x.rule),
				Status: models.NoticeOpen, IssuedBy: officerOf[x.road], IssuedAt: issued, DueAt: issued.Add(time.Duration(k.days) * 24 * time.Hour)}
			switch k.what {
			case "reported":
				at := s.now.Add(-24 * time.Hour).UTC().Truncate(time.Millisecond)
				n.ReportedAt, n.ReportNote = &at, "已全部整改，请复查"
			case "rectified":
				at := issued.Add(48 * time.Hour)
				by := officerOf[x.road]
				n.Status, n.ResolvedAt, n.ResolvedBy, n.ResolutionNote = models.NoticeRectified, &at, &by, "复查已整改"
			}
			ns = append(ns, n)
		}
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		for i := range ns {
			if err := s.db.CreateNotice(ctx, &ns[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadRead is one read measured: a GET with its headers, and its floor.
type loadRead struct {
	name    string
	path    string
	headers []string // "Name: value"
	floor   float64

	body  []byte // as fetched once before measuring
	ctype string
	err   error // the fetch failed: not measured
}

// loadRow is a read's measurement.
type loadRow struct {
	read         *loadRead
	target, bare loadResult
	backlog      time.Duration // the target's requests still running when wrk stopped took this long to end
	err          error
}

// loadResult is what one wrk run reports.
type loadResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64 // non-2xx/3xx answers and socket errors
}

// loadCast is who the reads and the writes act as, found by name in the
// seeded database.
type loadCast struct {
	county, road int64 // the first county, the merchant account's road
	merchant     int64 // the first merchant account's shop
	token        string
	cycle        string
	shops        []int64 // the first county's active shops, written to
	entry        int64   // a deduction of the merchant, for its appeal form
}

func runLoad(ctx context.Context, o loadOptions, seed loadSeed, getenv func(string) string, stdout, stderr io.Writer, start time.Time, seeding time.Duration) error {
	a, err := openApp(ctx, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.checkPhotos(ctx); err != nil {
		return err
	}
	if a.redis != nil {
		if err := a.svc.RebuildLeaderboards(ctx); err != nil {
			return err
		}
	}
	cast, err := findCast(ctx, a)
	if err != nil {
		return err
	}

	// The service as serve runs it, and the yardstick.
	// The reads in flight are counted, so that a slow read's backlog (wrk
	// leaves its last requests running) is over before the next measurement.
	busy := &loadBusy{h: a.handler()}
	target, stopTarget, err := listenLoad(busy)
	if err != nil {
		return err
	}
	defer stopTarget()
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	a.startBackground(bgCtx)

	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b, err := setupReads(ctx, o, a, client, target, target, seed, cast)
	if err != nil {
		return err
	}
	defer b.stopBare()
	fmt.Fprintf(stdout, "Measuring %d reads (%s each, %d connections) while recording %g inspections a second in %s…\n",
		len(b.reads), o.duration, o.connections, o.writeRate, loadCountyName(0))
	m, err := b.measure(ctx, o, target, busy, stdout)
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout)
	printLoad(stdout, m.rows)
	fmt.Fprintln(stdout)
	redis := "no Redis"
	if a.redis != nil {
		redis = "Redis"
	}
	fmt.Fprintf(stdout, "City: %d counties × %d shops (%d roads each); reads in %s (county %d), cycle %s.\n",
		seed.Counties, seed.Shops, seed.Roads, loadCountyName(0), cast.county, cast.cycle)
	m.printWrites(stdout, o)
	fmt.Fprintf(stdout, "Peak RSS: %s (VmHWM; the service runs in this process).\n", peakRSS())
	fmt.Fprintf(stdout, "Dialect: %s, %s. Build: %s. wrk -t%d -c%d -d%s.\n", a.db.Dialect(), redis, buildRevision(), o.threads, o.connections, o.duration)
	fmt.Fprintf(stdout, "Total time: %s (seeding %s).\n", time.Since(start).Round(time.Second), seeding.Round(100*time.Millisecond))
	return m.unmeasured()
}

// readBench is the reads of issue 13 ready to measure: fetched once, their
// bare baselines serving, and the writer that records inspections meanwhile.
type readBench struct {
	reads    []*loadRead
	bare     string // the bare handler's URL
	stopBare func()
	w        *loadWriter
}

// setupReads signs the cast in at target, fetches each read once there and
// starts the bare baselines; the writer will record at writeTo.
func setupReads(ctx context.Context, o loadOptions, a *app, client *http.Client, target, writeTo string, seed loadSeed, cast loadCast) (*readBench, error) {
	var err error
	tokens := map[string]string{}
	for _, name := range []string{loadCityAdmin, loadAdminName(0), loadAccountName(0, 0)} {
		if tokens[name], err = apiLogin(ctx, client, target, name, seed.Password); err != nil {
			return nil, err
		}
	}
	var officerTokens []string
	for k := range min(loadOfficers, seed.officers()) {
		tok, err := apiLogin(ctx, client, writeTo, loadOfficerName(0, k), seed.Password)
		if err != nil {
			return nil, err
		}
		officerTokens = append(officerTokens, tok)
	}
	cookies := map[string]string{}
	for _, name := range []string{loadCityAdmin, loadAdminName(0), loadOfficerName(0, 0), loadAccountName(0, 0)} {
		sess, err := a.svc.StartSession(ctx, name, seed.Password)
		if err != nil {
			return nil, fmt.Errorf("load: session of %s: %w", name, err)
		}
		cookies[name] = "Cookie: menqian_session=" + sess.ID
	}
	reads := loadReads(cast, tokens, cookies)
	if o.only != nil {
		reads = slices.DeleteFunc(reads, func(r *loadRead) bool { return !o.only.MatchString(r.name) })
		if len(reads) == 0 {
			return nil, fmt.Errorf("load: -only %q matches no read", o.only)
		}
	}
	for _, r := range reads {
		r.body, r.ctype, r.err = fetchRead(ctx, client, target+r.path, r.headers)
	}
	bare, stopBare, err := listenLoad(bareLoad(reads))
	if err != nil {
		return nil, err
	}
	w := &loadWriter{base: writeTo, client: client, tokens: officerTokens, shops: cast.shops, seed: o.seed, run: time.Now().UnixNano()}
	return &readBench{reads: reads, bare: bare, stopBare: stopBare, w: w}, nil
}

// readsMeasured is what measure found.
type readsMeasured struct {
	rows       []loadRow
	ok, failed int64         // inspections recorded and failed meanwhile
	took       time.Duration // the whole measurement
	lastErr    string        // the writer's last failure
}

// measure measures each read at target (after a warm-up), then its bare
// baseline, while the writer records o.writeRate inspections a second. busy
// counts the target's requests in flight when it runs in this process (nil:
// another process, whose backlog is not waited for).
func (b *readBench) measure(ctx context.Context, o loadOptions, target string, busy *loadBusy, stdout io.Writer) (readsMeasured, error) {
	w := b.w
	if o.writeRate > 0 && len(w.shops) > 0 {
		w.start(ctx, o.writeRate)
	}
	defer w.stop()
	wait := func() time.Duration {
		if busy == nil {
			return 0
		}
		return busy.wait(ctx)
	}
	var m readsMeasured
	readsStart := time.Now()
	for i, r := range b.reads {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		row := loadRow{read: r, err: r.err}
		if r.err == nil {
			if o.warmup > 0 {
				// Warms the caches the read uses, from a few connections (a
				// slow read's backlog would still load the next measurement).
				warm := o
				warm.threads, warm.connections = 1, min(4, o.connections)
				measureLoad(ctx, warm, target+r.path, r.headers, o.warmup)
				wait()
			}
			stopProfile, err := startLoadProfile(o.cpuProfiles, i, r.name)
			if err != nil {
				return m, err
			}
			row.target, row.err = measureLoad(ctx, o, target+r.path, r.headers, o.duration)
			stopProfile()
			row.backlog = wait()
			if row.err == nil {
				row.bare, row.err = measureLoad(ctx, o, fmt.Sprintf("%s/r/%d", b.bare, i), nil, o.duration)
			}
		}
		m.rows = append(m.rows, row)
		fmt.Fprintf(stdout, "  %s\n", row.progress())
	}
	m.took = time.Since(readsStart)
	w.stop()
	m.ok, m.failed = w.ok.Load(), w.failed.Load()
	m.lastErr, _ = w.lastErr.Load().(string)
	return m, nil
}

// printWrites says how the writer did during the reads.
func (m readsMeasured) printWrites(w io.Writer, o loadOptions) {
	fmt.Fprintf(w, "Writes during the reads: %.1f/s reached (target %g/s): %d inspections recorded, %d failed.\n",
		float64(m.ok)/m.took.Seconds(), o.writeRate, m.ok, m.failed)
	if m.lastErr != "" {
		fmt.Fprintf(w, "Last write failure: %s\n", m.lastErr)
	}
}

// unmeasured is an error naming the reads that could not be measured.
func (m readsMeasured) unmeasured() error {
	var bad []string
	for _, r := range m.rows {
		if r.err != nil {
			bad = append(bad, r.read.name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("load: %d reads could not be measured: %s", len(bad), strings.Join(bad, ", "))
	}
	return nil
}

// findCast looks up, by their names, what the reads and writes act on.
func findCast(ctx context.Context, a *app) (loadCast, error) {
	var c loadCast
	county, err := a.db.CountyByCode(ctx, loadCountyCode(0))
	if err != nil {
		return c, fmt.Errorf("load: county %s: %w", loadCountyCode(0), err)
	}
	c.county = county.ID
	u, err := a.db.UserByUsername(ctx, loadAccountName(0, 0))
	if err != nil || u.MerchantID == nil {
		return c, fmt.Errorf("load: merchant account %s: %v", loadAccountName(0, 0), err)
	}
	m, err := a.db.MerchantByID(ctx, *u.MerchantID)
	if err != nil {
		return c, err
	}
	c.merchant, c.road, c.token = m.ID, m.RoadID, a.svc.PlaqueToken(m)
	c.cycle = a.policy.CycleOf(time.Now()).String()
	entries, err := a.db.LedgerOf(ctx, m.ID, "")
	if err != nil {
		return c, err
	}
	for _, e := range entries {
		if e.Kind == models.KindDeduction {
			c.entry = e.ID
		}
	}
	rows, err := a.db.SQL().QueryContext(ctx, "SELECT id FROM merchants WHERE county_id = ? AND status = 'active' ORDER BY id", c.county)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return c, err
		}
		c.shops = append(c.shops, id)
	}
	return c, rows.Err()
}

// loadReads are the reads of issue 13, in the first county, each with the
// credentials of who reads it, and their floors.
func loadReads(c loadCast, tokens, cookies map[string]string) []*loadRead {
	bearer := func(name string) []string { return []string{"Authorization: Bearer " + tokens[name]} }
	admin, city, shop := bearer(loadAdminName(0)), bearer(loadCityAdmin), bearer(loadAccountName(0, 0))
	adminPage, cityPage := []string{cookies[loadAdminName(0)]}, []string{cookies[loadCityAdmin]}
	officerPage, shopPage := []string{cookies[loadOfficerName(0, 0)]}, []string{cookies[loadAccountName(0, 0)]}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	county, road, m := id(c.county), id(c.road), id(c.merchant)
	r := func(name, path string, floor float64, headers ...string) *loadRead {
		return &loadRead{name: name, path: path, headers: headers, floor: floor}
	}
	reads := []*loadRead{
		r("/q/{token} HTML", "/q/"+c.token, 0.5, "Accept: text/html"),
		r("/q/{token} JSON", "/q/"+c.token, 0.5, "Accept: application/json"),

		r("leaderboard: merchants of the county", "/api/v1/leaderboards/merchants?scope=county&id="+county, 0.3, admin...),
		r("leaderboard: merchants of a road", "/api/v1/leaderboards/merchants?scope=road&id="+road, 0.3, admin...),
		r("leaderboard: merchants of the city", "/api/v1/leaderboards/merchants?scope=city", 0.3, city...),
		r("leaderboard: roads of the county", "/api/v1/leaderboards/roads?county_id="+county, 0.3, admin...),
		r("a merchant's rank", "/api/v1/merchants/"+m+"/rank", 0.3, shop...),

		r("demonstration view", "/api/v1/counties/"+county+"/demonstration", 0.1, admin...),
		r("counties board", "/api/v1/leaderboards/counties", 0.1, city...),
		r("county dashboard /console", "/console", 0.1, adminPage...),
		r("merchant home /merchant", "/merchant", 0.1, shopPage...),

		r("console: shops", "/console/shops", 0.05, adminPage...),
		r("console: a shop", "/console/shops/"+m, 0.05, adminPage...),
		r("console: shop edit form", "/console/shops/"+m+"/edit", 0.05, adminPage...),
		r("console: new shop form", "/console/shops/new", 0.05, adminPage...),
		r("console: roads", "/console/roads", 0.05, adminPage...),
		r("console: a road", "/console/roads/"+road, 0.05, adminPage...),
		r("console: rankings", "/console/rankings", 0.05, adminPage...),
		r("console: demonstration roads", "/console/demonstration", 0.05, adminPage...),
		r("console: bulletins", "/console/bulletins", 0.05, adminPage...),
		r("console: bulletin of the cycle", "/console/bulletins/"+c.cycle, 0.05, adminPage...),
		r("console: appeals", "/console/appeals", 0.05, adminPage...),
		r("console: notices", "/console/notices", 0.05, adminPage...),
		r("console: accounts", "/console/accounts", 0.05, adminPage...),
		r("console: audit log", "/console/audit", 0.05, adminPage...),
		r("console: import form", "/console/import", 0.05, adminPage...),
		r("city console /console", "/console", 0.05, cityPage...),
		r("city console: counties", "/console/counties", 0.05, cityPage...),
		r("city console: a county", "/console/counties/"+county, 0.05, cityPage...),
		r("city console: rankings", "/console/rankings", 0.05, cityPage...),
		r("city console: policy", "/console/policy", 0.05, cityPage...),
		r("officer: worklist", "/officer", 0.05, officerPage...),
		r("officer: a road's shops", "/officer/roads/"+road, 0.05, officerPage...),
		r("officer: a shop file", "/officer/shops/"+m, 0.05, officerPage...),
		r("officer: notice form", "/officer/shops/"+m+"/notice", 0.05, officerPage...),
		r("officer: inspection form", "/inspect?m="+m, 0.05, officerPage...),
		r("merchant: ledger", "/merchant/ledger", 0.05, shopPage...),
		r("merchant: appeals", "/merchant/appeals", 0.05, shopPage...),
		r("merchant: notices", "/merchant/notices", 0.05, shopPage...),

		r("API: merchants of the county", "/api/v1/merchants?county_id="+county, 0.05, admin...),
		r("API: roads of the county", "/api/v1/roads?county_id="+county, 0.05, admin...),
		r("API: bulletin of the cycle", "/api/v1/counties/"+county+"/bulletins/"+c.cycle+"?format=json", 0.05, admin...),
		r("API: notices worklist", "/api/v1/notices?county_id="+county, 0.05, admin...),
		r("API: appeals", "/api/v1/appeals?county_id="+county, 0.05, admin...),
	}
	if c.entry != 0 {
		reads = append(reads, r("merchant: appeal form", fmt.Sprintf("/merchant/ledger/%d/appeal", c.entry), 0.05, shopPage...))
	}
	return reads
}

// listenLoad serves h on a free loopback port, with serve's limits.
func listenLoad(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// loadBusy counts the GET requests the target is serving.
type loadBusy struct {
	h http.Handler
	n atomic.Int64
}

func (b *loadBusy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		b.n.Add(1)
		defer b.n.Add(-1)
	}
	b.h.ServeHTTP(w, r)
}

// wait waits, up to two minutes, until no GET is being served, and returns
// how long that took.
func (b *loadBusy) wait(ctx context.Context) time.Duration {
	start := time.Now()
	for b.n.Load() > 0 && time.Since(start) < 2*time.Minute && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// bareLoad is the yardstick: a bare Gin engine (release mode, no
// middleware) with a route /r/{i} per read that writes the bytes the read
// answered, with its Content-Type.
func bareLoad(reads []*loadRead) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	for i, r := range reads {
		body, ctype := r.body, r.ctype
		g.GET("/r/"+strconv.Itoa(i), func(c *gin.Context) { c.Data(http.StatusOK, ctype, body) })
	}
	return g
}

// apiLogin signs in through the API and returns the bearer token.
func apiLogin(ctx context.Context, client *http.Client, base, username, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Token == "" {
		return "", fmt.Errorf("load: sign-in of %s: %s %v", username, resp.Status, err)
	}
	return out.Token, nil
}

// fetchRead GETs a read once and checks it answers 200.
func fetchRead(ctx context.Context, client *http.Client, u string, headers []string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, "", err
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%s %s: %.200s", resp.Status, resp.Header.Get("Location"), body)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// measureLoad loads u for d: with wrk, or with the built-in Go client when
// d is under wrk's one second.
func measureLoad(ctx context.Context, o loadOptions, u string, headers []string, d time.Duration) (loadResult, error) {
	if d < time.Second {
		return goLoad(ctx, u, headers, o.connections, d)
	}
	// wrk leaves out of its latencies the requests slower than its timeout
	// (2 s by default): as long as the run, every answer counts.
	secs := int(math.Round(d.Seconds()))
	args := []string{fmt.Sprintf("-t%d", o.threads), fmt.Sprintf("-c%d", o.connections), fmt.Sprintf("-d%ds", secs),
		fmt.Sprintf("--timeout=%ds", max(secs, 2)), "--latency"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	out, err := exec.CommandContext(ctx, "wrk", append(args, u)...).CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return parseWrk(out)
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkPercent = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads requests per second, the median and 99th percentile
// latencies (--latency) and the errors of a wrk report.
func parseWrk(out []byte) (loadResult, error) {
	var r loadResult
	m := wrkRPS.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk output without Requests/sec:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, p := range wrkPercent.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(p[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[string(p[3])]
		d := time.Duration(v * float64(unit))
		if string(p[1]) == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		r.errors += n
	}
	if m := wrkSocket.FindSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(string(s), 10, 64)
			r.errors += n
		}
	}
	return r, nil
}

// goLoad is a small closed-loop load of u from conns connections for d,
// for durations wrk cannot run (under a second).
func goLoad(ctx context.Context, u string, headers []string, conns int, d time.Duration) (loadResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	h := http.Header{}
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ":")
		h.Set(k, strings.TrimSpace(v))
	}
	start := time.Now()
	deadline := start.Add(d)
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
				req.Header = h.Clone()
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 400 {
					errs.Add(1)
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return loadResult{}, err
	}
	r := loadResult{rps: float64(len(lat)) / elapsed.Seconds(), errors: errs.Load()}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.p50, r.p99 = lat[len(lat)/2], lat[min(len(lat)*99/100, len(lat)-1)]
	}
	return r, nil
}

// ratio is the target's rate over the bare one's.
func (r loadRow) ratio() float64 {
	if r.bare.rps == 0 {
		return 0
	}
	return r.target.rps / r.bare.rps
}

// formatRatio shows a ratio with three decimals, or two significant digits
// when it is smaller than that.
func formatRatio(r float64) string {
	d := 3
	if r > 0 {
		d = max(3, 1-int(math.Floor(math.Log10(r))))
	}
	return strconv.FormatFloat(r, 'f', d, 64)
}

// formatRate shows requests per second, with a decimal below ten.
func formatRate(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 0, 64)
}

// verdict is PASS or MISS against the read's floor.
func (r loadRow) verdict() string {
	if r.ratio() >= r.read.floor {
		return "PASS"
	}
	return "MISS"
}

func (r loadRow) progress() string {
	if r.err != nil {
		return fmt.Sprintf("%-40s ERROR %v", r.read.name, r.err)
	}
	line := fmt.Sprintf("%-40s %9s / %9s req/s = %s (floor %g) %s, p99 %s", r.read.name, formatRate(r.target.rps), formatRate(r.bare.rps),
		formatRatio(r.ratio()), r.read.floor, r.verdict(), roundLatency(r.target.p99))
	if r.backlog >= time.Second {
		line += fmt.Sprintf(" (its backlog took %s to clear)", r.backlog.Round(100*time.Millisecond))
	}
	return line
}

// printLoad writes the table of the measurements.
func printLoad(w io.Writer, rows []loadRow) {
	fmt.Fprintln(w, "| read | target req/s | bare req/s | ratio | floor | result | p50 | p99 | errors | bytes |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
	pass := 0
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(w, "| %s | — | — | — | %g | ERROR | — | — | — | — |\n", r.read.name, r.read.floor)
			continue
		}
		if r.verdict() == "PASS" {
			pass++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %g | %s | %s | %s | %d | %d |\n", r.read.name, formatRate(r.target.rps), formatRate(r.bare.rps), formatRatio(r.ratio()),
			r.read.floor, r.verdict(), roundLatency(r.target.p50), roundLatency(r.target.p99), r.target.errors, len(r.read.body))
	}
	fmt.Fprintf(w, "\n%d of %d reads reach their floor. Latencies are the target's (—: no answer within the run); errors are\n"+
		"its non-2xx/3xx answers and socket errors; bytes the body's size.\n", pass, len(rows))
}

// roundLatency keeps three significant digits or so; none ("—") is zero.
func roundLatency(d time.Duration) any {
	switch {
	case d == 0:
		return "—"
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// peakRSS is the process's VmHWM, when /proc tells it.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return fmt.Sprintf("%d MiB", kb>>10)
			}
		}
	}
	return "unknown"
}

// buildRevision is the commit the binary was built from, "+dirty" when the
// tree had changes, as go build records it.
func buildRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// loadWriter records inspections at a steady rate through the API, as the
// first county's officers would: a deduction with a photo uploaded first,
// or a bonus, on a shop drawn at random.
type loadWriter struct {
	base    string
	client  *http.Client
	tokens  []string
	shops   []int64
	seed    uint64
	run     int64 // keys stay apart between runs on one database
	ok      atomic.Int64
	failed  atomic.Int64
	lastErr atomic.Value // string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// start ticks rate times a second until stop, each tick an inspection
// (at most 64 in flight: a tick finding them all busy is a failure).
func (w *loadWriter) start(ctx context.Context, rate float64) {
	ctx, w.cancel = context.WithCancel(ctx)
	sem := make(chan struct{}, 64)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		for n := uint64(0); ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				w.fail(errors.New("64 inspections in flight: the service does not keep up"))
				continue
			}
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				defer func() { <-sem }()
				// Requests started finish even when the run ends meanwhile.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
				defer cancel()
				if err := w.inspect(rctx, n); err != nil {
					w.fail(err)
				} else {
					w.ok.Add(1)
				}
			}()
		}
	}()
}

// stop stops the ticks and waits for the inspections in flight.
func (w *loadWriter) stop() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
}

func (w *loadWriter) fail(err error) {
	w.failed.Add(1)
	w.lastErr.Store(err.Error())
}

// inspect records the n-th inspection.
func (w *loadWriter) inspect(ctx context.Context, n uint64) error {
	rng := rand.New(rand.NewPCG(w.seed, uint64(w.run)+n))
	token := w.tokens[int(n)%len(w.tokens)]
	in := map[string]any{"merchant_id": w.shops[rng.IntN(len(w.shops))]}
	deduct := rng.IntN(10) < 6
	if deduct {
		photo, err := w.upload(ctx, token, demoPhoto(rng.Uint64(), false))
		if err != nil {
			return err
		}
		in["photos"], in["note"] = []int64{photo}, "现场已责令整改"
	}
	in["items"] = loadItems(rng, deduct)
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, "POST", w.base+"/api/v1/inspections", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("load-%d-%d", w.run, n))
	return w.expect(req, http.StatusCreated, nil)
}

// upload posts a photo and returns its id.
func (w *loadWriter) upload(ctx context.Context, token string, jpeg []byte) (int64, error) {
	body, ctype := multipartPhoto(nil, "file", jpeg)
	req, err := http.NewRequestWithContext(ctx, "POST", w.base+"/api/v1/photos", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ctype)
	var out struct{ ID int64 }
	return out.ID, w.expect(req, http.StatusCreated, &out)
}

// expect sends req and wants the status, decoding the JSON answer into out.
func (w *loadWriter) expect(req *http.Request, status int, out any) error {
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		return fmt.Errorf("%s %s: %s %.200s", req.Method, (&url.URL{Path: req.URL.Path}).String(), resp.Status, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// startLoadProfile starts a CPU profile of read i into dir (nothing when dir
// is empty) and returns what stops it.
func startLoadProfile(dir string, i int, name string) (func(), error) {
	if dir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("load: -cpuprofile: %v", err)
	}
	slug := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(name))
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%02d-%s.pprof", i+1, slug)))
	if err != nil {
		return nil, fmt.Errorf("load: -cpuprofile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("load: -cpuprofile: %v", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
