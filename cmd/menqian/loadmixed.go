package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// `menqian load -mixed` is issue 17's city-scale run: a city's busy hour,
// compressed into minutes, against several `menqian serve` processes of this
// very binary on one database and one Redis, with a client in front that
// sends each request to the next instance in turn, as a load balancer
// would. Officers sign in and record inspections with a photo through their
// phone pages, merchants read their pages, the public scans plaques and
// reports problems, county and city offices read their consoles and
// boards, and halfway through a finished month is closed with `menqian
// close-cycle`. Then the reads of issue 13 are measured against their bare
// baselines as without -mixed, and the run is checked for consistency.

// mixOptions are the -mixed flags.
type mixOptions struct {
	on          bool
	duration    time.Duration // the busy hour compressed into this
	instances   int
	scale, rate float64 // the hour's traffic times scale; rate > 0: every journey at rate a second instead
	baselines   bool
	skip        *regexp.Regexp // journeys left out
}

// mixCloseBack is how many months back the month a -mixed run closes is at
// the latest: serving instances close the last three finished months by
// themselves when they start (CloseDueCycles), so a month to close mid-run
// has to be older than those.
const mixCloseBack = 4

// mixInFlight bounds each journey's runs in flight; a run due when they are
// all busy is shed (counted, not sent): the service does not keep up.
const mixInFlight = 256

// loadChildEnv marks a process that load started (an instance, the close):
// a test binary then runs as menqian itself (see TestMain).
const loadChildEnv = "MENQIAN_LOAD_CHILD"

// accounts is the seed's merchant accounts per county.
func (s loadSeed) accounts() int {
	if s.Accounts == 0 {
		return min(loadAccounts, max(s.Shops/max(s.Roads, 1), 1))
	}
	return s.Accounts
}

func runMixed(ctx context.Context, o loadOptions, seed loadSeed, getenv func(string) string, stdout, stderr io.Writer, start time.Time, seeding time.Duration) error {
	a, err := openApp(ctx, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.redis != nil {
		if err := a.svc.RebuildLeaderboards(ctx); err != nil {
			return err
		}
	}
	city, err := findCity(ctx, a, seed)
	if err != nil {
		return err
	}
	closing, err := mixCloseCycle(ctx, a, seed)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("load: this binary: %v", err)
	}
	logDir, err := os.MkdirTemp("", "menqian-load-")
	if err != nil {
		return err
	}
	env := childEnv(getenv)
	fmt.Fprintf(stdout, "Starting %d instances of %s serve (logs in %s)…\n", o.mix.instances, exe, logDir)
	insts, err := startInstances(ctx, exe, env, o.mix.instances, logDir)
	defer stopInstances(insts)
	if err != nil {
		return err
	}
	bases := make([]string, len(insts))
	for i, in := range insts {
		bases[i] = in.url
	}

	m := newMixer(o, seed, city, bases)
	if len(m.journeys) == 0 {
		return fmt.Errorf("load -mixed: -skip %q leaves no journey", o.mix.skip)
	}
	fmt.Fprintf(stdout, "Mixed load for %s: %s, %d journeys (%.0f runs a second planned); closing %s at half time…\n",
		o.mix.duration, m.describe(), len(m.journeys), m.planned(), closing)
	before := sampleResources(ctx, a, insts)
	m.cpu = func() cpuSnap {
		var s cpuSnap
		for _, in := range insts {
			s.instances += procCPU(in.pid())
		}
		s.db, s.machine = procCPU(before.dbPID), machineCPU()
		return s
	}
	closeRes := &mixClose{cycle: closing}
	res := m.run(ctx, o.mix.duration, func() { closeRes.do(ctx, exe, env, m) })
	after := sampleResources(ctx, a, insts)
	mixPeaks := make([]int64, len(insts))
	for i, in := range insts {
		mixPeaks[i] = vmHWM(in.pid())
	}

	var reads *readsMeasured
	if o.mix.baselines {
		cast, err := findCast(ctx, a)
		if err != nil {
			return err
		}
		client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		defer client.CloseIdleConnections()
		b, err := setupReads(ctx, o, a, client, bases[0], bases[len(bases)-1], seed, cast)
		if err != nil {
			return err
		}
		defer b.stopBare()
		fmt.Fprintf(stdout, "\nMeasuring %d reads at instance 1 (%s each, %d connections) while recording %g inspections a second at instance %d…\n",
			len(b.reads), o.duration, o.connections, o.writeRate, len(insts))
		rm, err := b.measure(ctx, o, bases[0], nil, stdout)
		if err != nil {
			return err
		}
		reads = &rm
	}
	endPeaks := make([]int64, len(insts))
	for i, in := range insts {
		endPeaks[i] = vmHWM(in.pid())
	}
	stopErrs := stopInstances(insts)

	v := m.verify(ctx, a, getenv, stderr)

	// The report.
	fmt.Fprintln(stdout)
	m.printEndpoints(stdout, res)
	fmt.Fprintln(stdout)
	m.printJourneys(stdout, res)
	fmt.Fprintln(stdout)
	m.printTimeline(stdout, res, closeRes)
	fmt.Fprintln(stdout)
	closeRes.print(stdout)
	printResources(stdout, a, insts, before, after, mixPeaks, endPeaks, stopErrs)
	fmt.Fprintln(stdout)
	v.print(stdout)
	if reads != nil {
		fmt.Fprintln(stdout)
		printLoad(stdout, reads.rows)
		fmt.Fprintln(stdout)
		reads.printWrites(stdout, o)
	}
	redis := "no Redis"
	if a.redis != nil {
		redis = "Redis"
	}
	fmt.Fprintf(stdout, "\nCity: %d counties × %d shops (%d roads, %d officers, %d merchant accounts each); cycle %s.\n",
		seed.Counties, seed.Shops, seed.Roads, seed.officers(), seed.accounts(), a.policy.CycleOf(time.Now()))
	fmt.Fprintf(stdout, "Dialect: %s, %s. Build: %s. %d instances. Load average %s at the start of the mix, %s at its end.\n",
		a.db.Dialect(), redis, buildRevision(), len(insts), before.loadavg, after.loadavg)
	fmt.Fprintf(stdout, "Total time: %s (seeding %s).\n", time.Since(start).Round(time.Second), seeding.Round(100*time.Millisecond))

	var problems []string
	if n := res.unexpected(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d unexpected answers", n))
	}
	if closeRes.err != nil {
		problems = append(problems, "the close failed: "+closeRes.err.Error())
	}
	if len(v.problems) > 0 {
		problems = append(problems, "the run is not consistent")
	}
	for i, err := range stopErrs {
		if err != nil {
			problems = append(problems, fmt.Sprintf("instance %d: %v", i+1, err))
		}
	}
	if reads != nil {
		if err := reads.unmeasured(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "Instance logs kept in %s.\n", logDir)
		return fmt.Errorf("load -mixed: %s", strings.Join(problems, "; "))
	}
	os.RemoveAll(logDir)
	return nil
}

// mixCloseCycle is the month the run closes mid-run: the newest finished
// month, four or more back, that nobody closed yet.
func mixCloseCycle(ctx context.Context, a *app, seed loadSeed) (policy.Cycle, error) {
	now := time.Now()
	first := a.policy.CycleOf(seed.Seeded).Add(-12) // the shops' registration (seedLoad)
	for c := a.policy.CycleOf(now).Add(-mixCloseBack); !c.Before(first); c = c.Prev() {
		if !a.policy.IsClosed(c, now) {
			continue
		}
		_, err := a.db.ClosedCycleByName(ctx, c.String())
		if errors.Is(err, models.ErrNotFound) {
			return c, nil
		}
		if err != nil {
			return policy.Cycle{}, err
		}
	}
	return policy.Cycle{}, errors.New("load -mixed: every month since the shops were registered is closed; seed an empty database again")
}

// mixShop is a shop of the city: its plaque token for the public's scans
// and reports and the officers' records.
type mixShop struct {
	id     int64
	county int // index
	road   int64
	token  string
}

// mixCity is what the journeys act on, found in the seeded database.
type mixCity struct {
	counties []int64   // ids, by index
	shops    []mixShop // active
	officers []mixOfficer
	accounts []string // merchant accounts' usernames
	pages    []int    // pages of the console's shop list, per county
}

// mixOfficer is an officer and the shops of its roads.
type mixOfficer struct {
	name  string
	shops []int // indexes into mixCity.shops
}

func findCity(ctx context.Context, a *app, seed loadSeed) (*mixCity, error) {
	c := &mixCity{}
	byID := map[int64]int{}
	for i := range seed.Counties {
		county, err := a.db.CountyByCode(ctx, loadCountyCode(i))
		if err != nil {
			return nil, fmt.Errorf("load: county %s: %w", loadCountyCode(i), err)
		}
		c.counties = append(c.counties, county.ID)
		byID[county.ID] = i
	}
	// Road k of a county is patrolled by its officer k mod officers (register).
	roadOfficer := map[int64]int{} // road id → index into c.officers
	officers := seed.officers()
	for i := range seed.Counties {
		for k := range officers {
			c.officers = append(c.officers, mixOfficer{name: loadOfficerName(i, k)})
		}
		for k := range seed.accounts() {
			c.accounts = append(c.accounts, loadAccountName(i, k))
		}
	}
	rows, err := a.db.SQL().QueryContext(ctx, "SELECT id, county_id, name FROM roads")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, county int64
		var name string
		if err := rows.Scan(&id, &county, &name); err != nil {
			rows.Close()
			return nil, err
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, "压测路"), "%d", &n); err != nil || n < 1 {
			continue
		}
		if i, ok := byID[county]; ok {
			roadOfficer[id] = i*officers + (n-1)%officers
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = a.db.SQL().QueryContext(ctx, "SELECT id, code, county_id, road_id, qr_generation FROM merchants WHERE status = 'active' ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	perCounty := make([]int, len(c.counties))
	for rows.Next() {
		var m models.Merchant
		if err := rows.Scan(&m.ID, &m.Code, &m.CountyID, &m.RoadID, &m.QRGeneration); err != nil {
			return nil, err
		}
		i, ok := byID[m.CountyID]
		if !ok {
			continue
		}
		perCounty[i]++
		c.shops = append(c.shops, mixShop{id: m.ID, county: i, road: m.RoadID, token: a.svc.PlaqueToken(m)})
		if k, ok := roadOfficer[m.RoadID]; ok {
			c.officers[k].shops = append(c.officers[k].shops, len(c.shops)-1)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range perCounty {
		c.pages = append(c.pages, max(1, (n+19)/20))
	}
	c.officers = slices.DeleteFunc(c.officers, func(o mixOfficer) bool { return len(o.shops) == 0 })
	if len(c.shops) == 0 || len(c.officers) == 0 || len(c.accounts) == 0 {
		return nil, errors.New("load -mixed: the city has no shops, officers or merchant accounts")
	}
	return c, nil
}

// childEnv is the environment of the processes load starts: this process's,
// with the MENQIAN_* configuration as getenv tells it.
func childEnv(getenv func(string) string) []string {
	vars := []string{"MENQIAN_ADDR", "MENQIAN_METRICS_ADDR", "MENQIAN_REQUEST_TIMEOUT", "MENQIAN_DRAIN", "MENQIAN_TRUSTED_PROXIES",
		"MENQIAN_MYSQL_DSN", "MENQIAN_MYSQL_MAX_CONNS", "MENQIAN_SQLITE_PATH", "MENQIAN_REDIS_URL", "MENQIAN_REDIS_PREFIX", "MENQIAN_PUBLIC_URL", "MENQIAN_SECRET", "MENQIAN_ADMIN_PASSWORD",
		"MENQIAN_POLICY", "MENQIAN_PHOTO_DIR", "MENQIAN_MIGRATE"}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(vars, k)
	})
	for _, k := range vars {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return append(env, loadChildEnv+"=1")
}

// loadInstance is one `menqian serve` that load started.
type loadInstance struct {
	url  string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // its exit, once done
	stop error // what stopping it found (once stopped)
	once sync.Once
}

func (in *loadInstance) pid() int {
	if in.cmd == nil || in.cmd.Process == nil {
		return 0
	}
	return in.cmd.Process.Pid
}

// startInstances starts n serve processes on free loopback ports and waits
// until each is ready. They trust the load's X-Forwarded-For (it stands
// where a load balancer would), leave migrating to load and stop at once.
func startInstances(ctx context.Context, exe string, env []string, n int, logDir string) ([]*loadInstance, error) {
	var insts []*loadInstance
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return insts, err
		}
		addr := ln.Addr().String()
		ln.Close()
		logPath := filepath.Join(logDir, fmt.Sprintf("instance-%d.log", i+1))
		f, err := os.Create(logPath)
		if err != nil {
			return insts, err
		}
		cmd := exec.Command(exe, "serve")
		cmd.Env = append(slices.Clone(env), "MENQIAN_ADDR="+addr, "MENQIAN_MIGRATE=off", "MENQIAN_DRAIN=0s",
			"MENQIAN_TRUSTED_PROXIES=127.0.0.1,::1", "MENQIAN_METRICS_ADDR=")
		cmd.Stdout, cmd.Stderr = f, f
		if err := cmd.Start(); err != nil {
			f.Close()
			return insts, fmt.Errorf("load: starting instance %d: %v", i+1, err)
		}
		in := &loadInstance{url: "http://" + addr, cmd: cmd, log: logPath, done: make(chan struct{})}
		go func() {
			in.err = cmd.Wait()
			f.Close()
			close(in.done)
		}()
		insts = append(insts, in)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	for i, in := range insts {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if resp, err := client.Get(in.url + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-in.done:
				return insts, fmt.Errorf("load: instance %d exited before it was ready (%v); its log: %s", i+1, in.err, tail(in.log))
			case <-ctx.Done():
				return insts, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return insts, fmt.Errorf("load: instance %d not ready after 2 minutes; its log: %s", i+1, tail(in.log))
			}
		}
	}
	return insts, nil
}

// stopInstances stops the instances (SIGTERM, then SIGKILL after 30 s) and
// returns, per instance, its unclean exit or the errors and data races its
// log shows; again it only returns what the first call found.
func stopInstances(insts []*loadInstance) []error {
	out := make([]error, len(insts))
	for i, in := range insts {
		in.once.Do(func() {
			in.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-in.done:
			case <-time.After(30 * time.Second):
				in.cmd.Process.Kill()
				<-in.done
				in.stop = errors.New("did not stop within 30 s of SIGTERM")
				return
			}
			if in.err != nil {
				in.stop = fmt.Errorf("exited with %v; its log: %s", in.err, tail(in.log))
				return
			}
			if n, race := logProblems(in.log); race {
				in.stop = fmt.Errorf("a DATA RACE in its log %s", in.log)
			} else if n > 0 {
				in.stop = fmt.Errorf("%d ERROR lines in its log %s", n, in.log)
			}
		})
		out[i] = in.stop
	}
	return out
}

// logProblems counts an instance log's ERROR lines and tells whether the
// race detector reported anything.
func logProblems(path string) (errorLines int, race bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "WARNING: DATA RACE"):
			race = true
		case strings.Contains(line, `"level":"ERROR"`):
			errorLines++
		}
	}
	return errorLines, race
}

// tail is the end of a log, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// mixEndpoint is one kind of request of the mix and what it answered.
type mixEndpoint struct {
	name string

	mu         sync.Mutex
	lat        []time.Duration // every answered request's
	closeLat   []time.Duration // those that started while the month was being closed
	ok         int64           // the expected status
	refused    int64           // the refusal the call expects (mixCall.refusal) with its Retry-After
	errors     int64           // any other status, no answer, or an answer without what the next step needs
	unanswered int64           // no answer (counted in errors too)
	errSample  []string        // the first distinct few
}

func (e *mixEndpoint) fail(what string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errors++
	if len(e.errSample) < 3 && !slices.Contains(e.errSample, what) {
		e.errSample = append(e.errSample, what)
	}
}

// mixJourney is something people do, due rate times a second (Poisson
// arrivals; evenly spaced with -mix-rate), each run a goroutine doing its
// requests in order.
type mixJourney struct {
	name    string
	perHour float64 // in the busy hour at the seeded city's size
	rate    float64 // a second, compressed and scaled
	fn      func(ctx context.Context, n uint64, rng *rand.Rand)

	started, shed atomic.Int64
}

// mixUser is an account signed in through the pages (a session cookie) or
// the API (a bearer token) on first use, from its own client address.
type mixUser struct {
	name, from string
	mu         sync.Mutex
	session    string
	token      string
}

// mixer runs the journeys against the instances and keeps what they answered.
type mixer struct {
	o        loadOptions
	password string
	city     *mixCity
	bases    []string
	next     atomic.Uint64
	client   *http.Client
	mark     string // this run's: in its idempotency keys, the flood's address
	photo    []byte

	eps      []*mixEndpoint
	journeys []*mixJourney
	closing  atomic.Bool
	start    time.Time
	buckets  []*mixBucket
	cpu      func() cpuSnap // nil: no CPU in the timeline
	cpuAt    []cpuSnap      // at each bucket's start, and the mix's end

	officers []*mixUser // as city.officers
	accounts []*mixUser
	admins   [][]*mixUser // per county: its office's sessions
	adminAPI []*mixUser   // per county: the office's API caller
	cityPage []*mixUser
	cityAPI  *mixUser
	flood    struct {
		mu      sync.Mutex
		cookies []*http.Cookie
		csrf    string
	}

	mu       sync.Mutex
	recorded map[string]mixRecorded // 201 inspections by idempotency key
	unknown  map[string]bool        // inspections sent without an answer: stored or not
}

// mixRecorded is an inspection the service answered 201.
type mixRecorded struct {
	id, merchant int64
	delta        int
	replayed     bool // the answer to a resend: the first sending had been stored
}

// cpuSnap is the CPU time used so far by the instances together and by
// MariaDB, and the machine's busy and total jiffies.
type cpuSnap struct {
	instances, db time.Duration
	machine       [2]float64
}

// mixBucket is a tenth of the mix.
type mixBucket struct {
	mu          sync.Mutex
	lat         []time.Duration
	errors      int64
	inspections int64
}

// Endpoints of the mix, by name (the report's rows, in this order).
const (
	epLoginForm   = "sign-in: GET /login"
	epLogin       = "sign-in: POST /login"
	epAPILogin    = "sign-in: POST /api/v1/auth/login"
	epShopFile    = "officer: GET /officer/shops/{id}"
	epInspectForm = "officer: GET /inspect?m={id}"
	epPhoto       = "officer: POST /inspect/photos (JPEG)"
	epRecord      = "officer: POST /inspect/records"
	epResend      = "officer: POST /inspect/records again (the queue resends, same key)"
	epWorklist    = "officer: GET /officer"
	epPlaque      = "public: GET /q/{token} (HTML)"
	epPlaqueJSON  = "public: GET /q/{token} (JSON)"
	epHome        = "merchant: GET /merchant"
	epLedger      = "merchant: GET /merchant/ledger"
	epReportForm  = "citizen: GET /q/{token}/report"
	epReport      = "citizen: POST /q/{token}/report"
	epReceipt     = "citizen: GET /r/{receipt}"
	epFlood       = "one address flooding: POST /q/{token}/report"
	epDashboard   = "county: GET /console"
	epShops       = "county: GET /console/shops?sort=score[_asc]&page=1..10"
	epRankings    = "county: GET /console/rankings"
	epCountyBoard = "county: GET /api/v1/leaderboards/merchants?scope=county"
	epRoadBoard   = "county: GET /api/v1/leaderboards/roads"
	epCityConsole = "city: GET /console"
	epCounties    = "city: GET /api/v1/leaderboards/counties"
	epCityBoard   = "city: GET /api/v1/leaderboards/merchants?scope=city"
)

// mixEndpoints are the endpoints in the report's order.
var mixEndpoints = []string{epLoginForm, epLogin, epAPILogin, epShopFile, epInspectForm, epPhoto, epRecord, epResend, epWorklist,
	epPlaque, epPlaqueJSON, epHome, epLedger, epReportForm, epReport, epReceipt, epFlood,
	epDashboard, epShops, epRankings, epCountyBoard, epRoadBoard, epCityConsole, epCounties, epCityBoard}

// Journeys, per unit per busy hour.
const (
	perShop = iota
	perOfficer
	perCounty
	perCity
)

// mixOfficeSessions is how many people of a county office (and of the city
// office) read their consoles, each in a session of their own.
const mixOfficeSessions = 5

func newMixer(o loadOptions, seed loadSeed, city *mixCity, bases []string) *mixer {
	m := &mixer{o: o, password: seed.Password, city: city, bases: bases,
		mark:     strconv.FormatInt(time.Now().UnixNano(), 36),
		photo:    mixPhoto(),
		recorded: map[string]mixRecorded{}, unknown: map[string]bool{}}
	m.client = &http.Client{Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 1024, IdleConnTimeout: 2 * time.Minute, DisableCompression: true}}
	for _, name := range mixEndpoints {
		m.eps = append(m.eps, &mixEndpoint{name: name})
	}
	for range 10 {
		m.buckets = append(m.buckets, &mixBucket{})
	}
	// Each account signs in from an address of its own (X-Forwarded-For):
	// the login limits are per address, as they would be in a city.
	for i, off := range city.officers {
		m.officers = append(m.officers, &mixUser{name: off.name, from: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)})
	}
	for i, name := range city.accounts {
		m.accounts = append(m.accounts, &mixUser{name: name, from: fmt.Sprintf("10.2.%d.%d", i/250, i%250+1)})
	}
	for c := range city.counties {
		var us []*mixUser
		for k := range mixOfficeSessions {
			us = append(us, &mixUser{name: loadAdminName(c), from: fmt.Sprintf("10.3.%d.%d", c, k+1)})
		}
		m.admins = append(m.admins, us)
		m.adminAPI = append(m.adminAPI, &mixUser{name: loadAdminName(c), from: fmt.Sprintf("10.3.%d.100", c)})
	}
	for k := range 2 {
		m.cityPage = append(m.cityPage, &mixUser{name: loadCityAdmin, from: fmt.Sprintf("10.4.0.%d", k+1)})
	}
	m.cityAPI = &mixUser{name: loadCityAdmin, from: "10.4.0.100"}

	// The busy hour of a city: every officer on patrol records 12
	// inspections (6 in 10 deductions with a photo) and opens the worklist
	// 3 times; of every 100 shops, 25 plaques are scanned by a phone and 5 by
	// a mini program, 10 merchants look at their page and 3 at their
	// ledger, and 0.75 citizens report a problem (0.15 more from one address
	// that floods); each county office reads its dashboard and shop list 240
	// times, its rankings page 120, the merchant board 240 and the road
	// board 120 times; the city office its console and both boards 120 times.
	add := func(name string, per int, n float64, fn func(ctx context.Context, n uint64, rng *rand.Rand)) {
		units := map[int]float64{perShop: float64(len(city.shops)), perOfficer: float64(len(city.officers)),
			perCounty: float64(len(city.counties)), perCity: 1}[per]
		if o.mix.skip != nil && o.mix.skip.MatchString(name) {
			return
		}
		j := &mixJourney{name: name, perHour: n * units, fn: fn}
		j.rate = j.perHour / o.mix.duration.Seconds() * o.mix.scale
		if o.mix.rate > 0 {
			j.rate = o.mix.rate
		}
		m.journeys = append(m.journeys, j)
	}
	add("officer: inspection with the phone pages", perOfficer, 12, m.inspect)
	add("officer: worklist", perOfficer, 3, m.simple(epWorklist, m.officerUser, "/officer"))
	add("public: plaque page", perShop, 0.25, m.scan(epPlaque, "text/html"))
	add("public: plaque JSON (mini program)", perShop, 0.05, m.scan(epPlaqueJSON, "application/json"))
	add("merchant: home", perShop, 0.10, m.simple(epHome, m.accountUser, "/merchant"))
	add("merchant: ledger", perShop, 0.03, m.simple(epLedger, m.accountUser, "/merchant/ledger"))
	add("citizen: report (随手拍)", perShop, 0.0075, m.report)
	add("citizen: one address flooding reports", perShop, 0.0015, m.floodReport)
	add("county: dashboard", perCounty, 240, m.county(epDashboard, func(int, *rand.Rand) string { return "/console" }))
	// The shop list by live score, best or worst first: mostly its first
	// page, else one of the next nine.
	add("county: shop list by score", perCounty, 240, m.county(epShops, func(c int, rng *rand.Rand) string {
		page := 1
		if rng.IntN(10) >= 6 {
			page = 2 + rng.IntN(9)
		}
		return fmt.Sprintf("/console/shops?sort=%s&page=%d", []string{"score", "score_asc"}[rng.IntN(2)], min(page, m.city.pages[c]))
	}))
	add("county: rankings page", perCounty, 120, m.county(epRankings, func(int, *rand.Rand) string { return "/console/rankings" }))
	add("county: merchant board (API)", perCounty, 240, m.countyAPI(epCountyBoard, func(id int64) string {
		return fmt.Sprintf("/api/v1/leaderboards/merchants?scope=county&id=%d", id)
	}))
	add("county: road board (API)", perCounty, 120, m.countyAPI(epRoadBoard, func(id int64) string {
		return fmt.Sprintf("/api/v1/leaderboards/roads?county_id=%d", id)
	}))
	add("city: console", perCity, 120, m.simple(epCityConsole, func(rng *rand.Rand) *mixUser { return m.cityPage[rng.IntN(len(m.cityPage))] }, "/console"))
	add("city: counties board (API)", perCity, 120, m.cityBoard(epCounties, "/api/v1/leaderboards/counties"))
	add("city: merchant board (API)", perCity, 120, m.cityBoard(epCityBoard, "/api/v1/leaderboards/merchants?scope=city"))
	return m
}

func (m *mixer) ep(name string) *mixEndpoint {
	for _, e := range m.eps {
		if e.name == name {
			return e
		}
	}
	panic("load: no endpoint " + name)
}

func (m *mixer) describe() string {
	return fmt.Sprintf("%d shops, %d officers, %d merchant accounts, %d county offices", len(m.city.shops), len(m.officers),
		len(m.accounts), len(m.city.counties))
}

// planned is the journeys' runs a second.
func (m *mixer) planned() float64 {
	var r float64
	for _, j := range m.journeys {
		r += j.rate
	}
	return r
}

// mixResult is the mix as it ran.
type mixResult struct {
	took     time.Duration
	eps      []*mixEndpoint
	journeys []*mixJourney
}

// unexpected counts the answers that were neither expected nor an expected 429.
func (r mixResult) unexpected() int64 {
	var n int64
	for _, e := range r.eps {
		n += e.errors
	}
	return n
}

// run runs every journey for d, calls half at half time in its own
// goroutine, and waits for the runs in flight and for half.
func (m *mixer) run(ctx context.Context, d time.Duration, half func()) mixResult {
	m.start = time.Now()
	end := m.start.Add(d)
	var wg, runs sync.WaitGroup
	for i, j := range m.journeys {
		if j.rate <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(m.o.seed, uint64(i)<<32|uint64(time.Now().UnixNano())))
			slots := make(chan struct{}, mixInFlight)
			at := m.start
			for n := uint64(0); ; n++ {
				gap := 1 / j.rate // -mix-rate: evenly spaced
				if m.o.mix.rate == 0 {
					gap *= rng.ExpFloat64()
				}
				at = at.Add(time.Duration(gap * float64(time.Second)))
				if !at.Before(end) {
					return
				}
				select {
				case <-time.After(time.Until(at)):
				case <-ctx.Done():
					return
				}
				select {
				case slots <- struct{}{}:
				default:
					j.shed.Add(1)
					continue
				}
				j.started.Add(1)
				runs.Add(1)
				seed := rng.Uint64()
				go func() {
					defer runs.Done()
					defer func() { <-slots }()
					// A run started finishes even when the mix ends meanwhile.
					rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
					defer cancel()
					j.fn(rctx, n, rand.New(rand.NewPCG(seed, n)))
				}()
			}
		}()
	}
	// The processes' CPU at each tenth of the mix, for the timeline.
	m.cpuAt = make([]cpuSnap, len(m.buckets)+1)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		step := d / time.Duration(len(m.buckets))
		for i := range m.cpuAt {
			select {
			case <-time.After(time.Until(m.start.Add(step * time.Duration(i)))):
			case <-ctx.Done():
				return
			}
			if m.cpu != nil {
				m.cpuAt[i] = m.cpu()
			}
		}
	}()
	halfDone := make(chan struct{})
	go func() {
		defer close(halfDone)
		select {
		case <-time.After(d / 2):
			half()
		case <-ctx.Done():
		}
	}()
	wg.Wait()
	runs.Wait()
	took := time.Since(m.start)
	<-halfDone
	<-sampled
	return mixResult{took: took, eps: m.eps, journeys: m.journeys}
}

// mixCall is one request.
type mixCall struct {
	method, path string
	body         []byte
	ctype        string
	header       map[string]string
	from         string // the client's address, sent as X-Forwarded-For
	cookies      []*http.Cookie
	want         int // the expected status
	// refusal is a status that is expected too, with Retry-After: 429 of
	// the report limits, 503 of the login's bounded password checks.
	refusal int
}

// mixAnswer is what came back.
type mixAnswer struct {
	status int
	header http.Header
	body   []byte
}

// do sends c to the next instance in turn and records it under ep; ok is
// whether it got the status it wanted.
func (m *mixer) do(ctx context.Context, ep *mixEndpoint, c mixCall) (mixAnswer, bool) {
	base := m.bases[int(m.next.Add(1)%uint64(len(m.bases)))]
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, body)
	if err != nil {
		ep.fail(err.Error())
		return mixAnswer{}, false
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if c.from != "" {
		req.Header.Set("X-Forwarded-For", c.from)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	closing := m.closing.Load()
	t0 := time.Now()
	resp, err := m.client.Do(req)
	var a mixAnswer
	if err == nil {
		a.status, a.header = resp.StatusCode, resp.Header
		a.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	took := time.Since(t0)
	b := m.buckets[min(len(m.buckets)-1, max(0, int(float64(len(m.buckets))*t0.Sub(m.start).Seconds()/m.o.mix.duration.Seconds())))]
	if err != nil {
		ep.mu.Lock()
		ep.unanswered++
		ep.mu.Unlock()
		ep.fail(err.Error())
		b.mu.Lock()
		b.errors++
		b.mu.Unlock()
		return a, false
	}
	ok := a.status == c.want
	refused := !ok && a.status == c.refusal && a.header.Get("Retry-After") != ""
	ep.mu.Lock()
	ep.lat = append(ep.lat, took)
	if closing {
		ep.closeLat = append(ep.closeLat, took)
	}
	switch {
	case ok:
		ep.ok++
	case refused:
		ep.refused++
	}
	ep.mu.Unlock()
	if !ok && !refused {
		ep.fail(fmt.Sprintf("%d %.160s", a.status, bytes.TrimSpace(a.body)))
	}
	b.mu.Lock()
	b.lat = append(b.lat, took)
	if !ok && !refused {
		b.errors++
	}
	if ok && (ep.name == epRecord || ep.name == epResend) {
		b.inspections++
	}
	b.mu.Unlock()
	return a, ok
}

// retried sends a sign-in as a person would: again after its Retry-After
// while the service refuses it as busy (its password checks are bounded), up
// to five times.
func (m *mixer) retried(ctx context.Context, ep *mixEndpoint, c mixCall) (mixAnswer, bool) {
	for range 5 {
		a, ok := m.do(ctx, ep, c)
		secs, err := strconv.Atoi(a.header.Get("Retry-After"))
		if ok || a.status != c.refusal || err != nil {
			return a, ok
		}
		select {
		case <-time.After(time.Duration(min(max(secs, 1), 10)) * time.Second):
		case <-ctx.Done():
			return a, false
		}
	}
	ep.fail("refused five times")
	return mixAnswer{}, false
}

// session signs u in through the login page once and returns its session cookie.
func (m *mixer) session(ctx context.Context, u *mixUser) (*http.Cookie, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.session != "" {
		return &http.Cookie{Name: "menqian_session", Value: u.session}, true
	}
	a, ok := m.do(ctx, m.ep(epLoginForm), mixCall{method: "GET", path: "/login", from: u.from, want: http.StatusOK})
	if !ok {
		return nil, false
	}
	csrf := formCSRF(a.body, `name="csrf" value="`)
	form := url.Values{"username": {u.name}, "password": {m.password}, "csrf": {csrf}, "next": {""}}
	call := mixCall{method: "POST", path: "/login", body: []byte(form.Encode()), ctype: "application/x-www-form-urlencoded",
		from: u.from, cookies: cookiesOf(a.header), want: http.StatusSeeOther, refusal: http.StatusServiceUnavailable}
	if a, ok = m.retried(ctx, m.ep(epLogin), call); !ok {
		return nil, false
	}
	for _, ck := range cookiesOf(a.header) {
		if ck.Name == "menqian_session" && ck.Value != "" {
			u.session = ck.Value
			return &http.Cookie{Name: ck.Name, Value: ck.Value}, true
		}
	}
	m.ep(epLogin).fail("303 without a session cookie")
	return nil, false
}

// bearer signs u in through the API once and returns its Authorization header.
func (m *mixer) bearer(ctx context.Context, u *mixUser) (map[string]string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.token == "" {
		body, _ := json.Marshal(map[string]string{"username": u.name, "password": m.password})
		a, ok := m.retried(ctx, m.ep(epAPILogin), mixCall{method: "POST", path: "/api/v1/auth/login", body: body, ctype: "application/json",
			from: u.from, want: http.StatusOK, refusal: http.StatusServiceUnavailable})
		if !ok {
			return nil, false
		}
		var out struct{ Token string }
		if json.Unmarshal(a.body, &out) != nil || out.Token == "" {
			m.ep(epAPILogin).fail("200 without a token")
			return nil, false
		}
		u.token = out.Token
	}
	return map[string]string{"Authorization": "Bearer " + u.token}, true
}

func cookiesOf(h http.Header) []*http.Cookie {
	var out []*http.Cookie
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		out = append(out, &http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	return out
}

// formCSRF finds the token a page's form carries after marker.
func formCSRF(page []byte, marker string) string {
	_, rest, ok := bytes.Cut(page, []byte(marker))
	if !ok {
		return ""
	}
	v, _, _ := bytes.Cut(rest, []byte(`"`))
	return string(v)
}

func (m *mixer) officerUser(rng *rand.Rand) *mixUser { return m.officers[rng.IntN(len(m.officers))] }
func (m *mixer) accountUser(rng *rand.Rand) *mixUser { return m.accounts[rng.IntN(len(m.accounts))] }

// simple is a journey of one page read by a signed-in user.
func (m *mixer) simple(name string, who func(*rand.Rand) *mixUser, path string) func(context.Context, uint64, *rand.Rand) {
	ep := m.ep(name)
	return func(ctx context.Context, _ uint64, rng *rand.Rand) {
		u := who(rng)
		ck, ok := m.session(ctx, u)
		if !ok {
			return
		}
		m.do(ctx, ep, mixCall{method: "GET", path: path, header: map[string]string{"Accept": "text/html"}, from: u.from,
			cookies: []*http.Cookie{ck}, want: http.StatusOK})
	}
}

// county is a journey of one console page of a county office.
func (m *mixer) county(name string, path func(county int, rng *rand.Rand) string) func(context.Context, uint64, *rand.Rand) {
	ep := m.ep(name)
	return func(ctx context.Context, _ uint64, rng *rand.Rand) {
		c := rng.IntN(len(m.admins))
		u := m.admins[c][rng.IntN(len(m.admins[c]))]
		ck, ok := m.session(ctx, u)
		if !ok {
			return
		}
		m.do(ctx, ep, mixCall{method: "GET", path: path(c, rng), header: map[string]string{"Accept": "text/html"}, from: u.from,
			cookies: []*http.Cookie{ck}, want: http.StatusOK})
	}
}

// countyAPI is a journey of one API read of a county office.
func (m *mixer) countyAPI(name string, path func(county int64) string) func(context.Context, uint64, *rand.Rand) {
	ep := m.ep(name)
	return func(ctx context.Context, _ uint64, rng *rand.Rand) {
		c := rng.IntN(len(m.adminAPI))
		h, ok := m.bearer(ctx, m.adminAPI[c])
		if !ok {
			return
		}
		m.do(ctx, ep, mixCall{method: "GET", path: path(m.city.counties[c]), header: h, from: m.adminAPI[c].from, want: http.StatusOK})
	}
}

// cityBoard is a journey of one API read of the city office.
func (m *mixer) cityBoard(name, path string) func(context.Context, uint64, *rand.Rand) {
	ep := m.ep(name)
	return func(ctx context.Context, _ uint64, _ *rand.Rand) {
		h, ok := m.bearer(ctx, m.cityAPI)
		if !ok {
			return
		}
		m.do(ctx, ep, mixCall{method: "GET", path: path, header: h, from: m.cityAPI.from, want: http.StatusOK})
	}
}

// citizen is a random phone's address (100.64.0.0/10, shared address space).
func citizen(rng *rand.Rand) string {
	return fmt.Sprintf("100.%d.%d.%d", 64+rng.IntN(64), rng.IntN(256), 1+rng.IntN(254))
}

// scan is a journey of the public: a plaque of any shop of the city.
func (m *mixer) scan(name, accept string) func(context.Context, uint64, *rand.Rand) {
	ep := m.ep(name)
	return func(ctx context.Context, _ uint64, rng *rand.Rand) {
		s := m.city.shops[rng.IntN(len(m.city.shops))]
		m.do(ctx, ep, mixCall{method: "GET", path: "/q/" + s.token, header: map[string]string{"Accept": accept}, from: citizen(rng), want: http.StatusOK})
	}
}

// inspect is an officer's inspection on the phone: the shop's file, the
// form, a photo when it is a deduction, the record.
func (m *mixer) inspect(ctx context.Context, n uint64, rng *rand.Rand) {
	k := rng.IntN(len(m.officers))
	u, off := m.officers[k], m.city.officers[k]
	s := m.city.shops[off.shops[rng.IntN(len(off.shops))]]
	ck, ok := m.session(ctx, u)
	if !ok {
		return
	}
	page := map[string]string{"Accept": "text/html"}
	id := strconv.FormatInt(s.id, 10)
	if _, ok := m.do(ctx, m.ep(epShopFile), mixCall{method: "GET", path: "/officer/shops/" + id, header: page, from: u.from,
		cookies: []*http.Cookie{ck}, want: http.StatusOK}); !ok {
		return
	}
	a, ok := m.do(ctx, m.ep(epInspectForm), mixCall{method: "GET", path: "/inspect?m=" + id, header: page, from: u.from,
		cookies: []*http.Cookie{ck}, want: http.StatusOK})
	if !ok {
		return
	}
	csrf := formCSRF(a.body, `id="csrf" value="`)
	if csrf == "" {
		m.ep(epInspectForm).fail("no CSRF token in the form")
		return
	}
	deduct := rng.IntN(10) < 6
	in := map[string]any{"qr_token": s.token, "items": loadItems(rng, deduct)}
	if deduct {
		body, ctype := multipartPhoto(nil, "file", m.photo)
		a, ok := m.do(ctx, m.ep(epPhoto), mixCall{method: "POST", path: "/inspect/photos", body: body, ctype: ctype,
			header: map[string]string{"X-CSRF-Token": csrf}, from: u.from, cookies: []*http.Cookie{ck}, want: http.StatusCreated})
		if !ok {
			return
		}
		var ph struct{ ID int64 }
		if json.Unmarshal(a.body, &ph) != nil || ph.ID == 0 {
			m.ep(epPhoto).fail("201 without a photo id")
			return
		}
		in["photos"], in["note"] = []int64{ph.ID}, "现场已责令整改"
	}
	body, _ := json.Marshal(in)
	key := fmt.Sprintf("mixed-%s-%d", m.mark, n)
	call := mixCall{method: "POST", path: "/inspect/records", body: body, ctype: "application/json",
		header: map[string]string{"X-CSRF-Token": csrf, "Idempotency-Key": key}, from: u.from, cookies: []*http.Cookie{ck}, want: http.StatusCreated}
	a, ok = m.do(ctx, m.ep(epRecord), call)
	// The form's queue sends a record again, under its key, when the answer
	// was lost or the service was unavailable: the first answer comes back,
	// whether or not the first sending was stored.
	for try := 0; !ok && try < 5 && (a.status == 0 || a.status >= 500); try++ {
		wait := time.Second
		if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err == nil && secs > 0 {
			wait = time.Duration(min(secs, 10)) * time.Second
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		a, ok = m.do(ctx, m.ep(epResend), call)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out struct {
		ID         int64 `json:"id"`
		MerchantID int64 `json:"merchant_id"`
		Delta      int   `json:"delta"`
		Replayed   bool  `json:"replayed"`
	}
	switch {
	case ok && json.Unmarshal(a.body, &out) == nil:
		m.recorded[key] = mixRecorded{id: out.ID, merchant: out.MerchantID, delta: out.Delta, replayed: out.Replayed}
	case a.status == 0 || a.status >= 500:
		m.unknown[key] = true // no final answer: it may have been stored
	}
}

// loadItems draws an inspection's items: one or two deductions from five
// common rules, or a bonus.
func loadItems(rng *rand.Rand, deduct bool) []map[string]any {
	pts := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	if !deduct {
		code := []string{"BONUS-01", "BONUS-02", "BONUS-03"}[rng.IntN(3)]
		return []map[string]any{{"rule_code": code, "points": 1, "note": demoItemNotes[code][0]}}
	}
	rules := [][3]any{{"HJWS-01", 1, 3}, {"ZXLH-02", 2, 5}, {"ZXLH-03", 1, 3}, {"SRZJ-02", 1, 3}, {"HJWS-03", 1, 3}}
	var items []map[string]any
	for _, k := range rng.Perm(len(rules))[:1+rng.IntN(2)] {
		r := rules[k]
		items = append(items, map[string]any{"rule_code": r[0], "points": pts(r[1].(int), r[2].(int)), "note": demoItemNotes[r[0].(string)][0]})
	}
	return items
}

// multipartPhoto is a multipart form of fields and a JPEG in field file.
func multipartPhoto(fields map[string]string, file string, jpeg []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if jpeg != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="photo.jpg"`, file))
		h.Set("Content-Type", "image/jpeg")
		part, _ := mw.CreatePart(h)
		part.Write(jpeg)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// reportRules are the items citizens report.
var reportRules = []string{"HJWS-01", "HJWS-02", "SRZJ-01", "ZXLH-01", "ZXLH-02", "ZXLH-04", models.CaseOther}

// report is a citizen's report from a plaque: the form (its cookies), the
// report with a photo every other time, the receipt page.
func (m *mixer) report(ctx context.Context, _ uint64, rng *rand.Rand) {
	s := m.city.shops[rng.IntN(len(m.city.shops))]
	from := citizen(rng)
	page := map[string]string{"Accept": "text/html"}
	a, ok := m.do(ctx, m.ep(epReportForm), mixCall{method: "GET", path: "/q/" + s.token + "/report", header: page, from: from, want: http.StatusOK})
	if !ok {
		return
	}
	cookies := cookiesOf(a.header)
	fields := map[string]string{"csrf": formCSRF(a.body, `name="csrf" value="`), "rule_code": reportRules[rng.IntN(len(reportRules))],
		"note": "门前堆放杂物，影响通行"}
	if rng.IntN(3) == 0 {
		fields["phone"] = fmt.Sprintf("139%08d", rng.IntN(100_000_000))
	}
	var photo []byte
	if rng.IntN(2) == 0 {
		photo = m.photo
	}
	body, ctype := multipartPhoto(fields, "photo", photo)
	a, ok = m.do(ctx, m.ep(epReport), mixCall{method: "POST", path: "/q/" + s.token + "/report", body: body, ctype: ctype, header: page,
		from: from, cookies: cookies, want: http.StatusSeeOther, refusal: http.StatusTooManyRequests})
	if !ok {
		return
	}
	to := a.header.Get("Location")
	if !strings.HasPrefix(to, "/r/") {
		m.ep(epReport).fail("303 to " + to)
		return
	}
	m.do(ctx, m.ep(epReceipt), mixCall{method: "GET", path: to, header: page, from: from, cookies: cookies, want: http.StatusOK})
}

// floodReport is one phone at one address reporting again and again, three
// times in a row on any shop: past the limits (10 an hour an address, 5 a
// device; without Redis, per instance) it gets 429, which is expected.
func (m *mixer) floodReport(ctx context.Context, _ uint64, rng *rand.Rand) {
	from := fmt.Sprintf("192.0.2.%d", 1+int(m.mark[len(m.mark)-1])%250) // a new address each run
	m.flood.mu.Lock()
	if m.flood.cookies == nil {
		s := m.city.shops[rng.IntN(len(m.city.shops))]
		a, ok := m.do(ctx, m.ep(epReportForm), mixCall{method: "GET", path: "/q/" + s.token + "/report", header: map[string]string{"Accept": "text/html"},
			from: from, want: http.StatusOK})
		if !ok {
			m.flood.mu.Unlock()
			return
		}
		m.flood.cookies, m.flood.csrf = cookiesOf(a.header), formCSRF(a.body, `name="csrf" value="`)
	}
	cookies, csrf := m.flood.cookies, m.flood.csrf
	m.flood.mu.Unlock()
	s := m.city.shops[rng.IntN(len(m.city.shops))]
	body, ctype := multipartPhoto(map[string]string{"csrf": csrf, "rule_code": models.CaseOther, "note": "又来了"}, "photo", nil)
	for range 3 {
		m.do(ctx, m.ep(epFlood), mixCall{method: "POST", path: "/q/" + s.token + "/report", body: body, ctype: ctype,
			header: map[string]string{"Accept": "text/html"}, from: from, cookies: cookies, want: http.StatusSeeOther, refusal: http.StatusTooManyRequests})
	}
}

// mixPhoto is the evidence photo of every upload: a 1600×1200 JPEG of about
// 200 KB, the size the phone pages send (they shrink photos to 1600 px).
// Made once: uploads of it are stored once (by content) and each is checked
// and decoded in full like any other.
func mixPhoto() []byte {
	const w, h, amp = 1600, 1200, 6
	rng := rand.New(rand.NewPCG(17, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := rng.IntN(2*amp+1) - amp
			c := func(v int) uint8 { return uint8(min(max(v+n, 0), 255)) }
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c(120+80*x/w), c(150-60*y/h), c(170+((x/40+y/40)%2)*30), 255
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

// mixClose is the month closed mid-run.
type mixClose struct {
	cycle      policy.Cycle
	at, took   time.Duration // since the mix started; how long the command ran
	out        string
	err        error
	mixRunning bool // the mix was still running when it ended
}

// do runs `menqian close-cycle` on the month, as an operator would, while
// the mix goes on.
func (c *mixClose) do(ctx context.Context, exe string, env []string, m *mixer) {
	m.closing.Store(true)
	defer m.closing.Store(false)
	t0 := time.Now()
	c.at = t0.Sub(m.start)
	cmd := exec.CommandContext(ctx, exe, "close-cycle", c.cycle.String())
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	c.took = time.Since(t0)
	c.mixRunning = time.Since(m.start) < m.o.mix.duration
	c.out = strings.TrimSpace(string(out))
	if err != nil {
		c.err = fmt.Errorf("%v: %s", err, c.out)
	}
}

func (c *mixClose) print(w io.Writer) {
	switch {
	case c.err != nil:
		fmt.Fprintf(w, "Month close: `menqian close-cycle %s` failed at %s: %v\n", c.cycle, c.at.Round(time.Second), c.err)
	default:
		line := c.out
		if i := strings.LastIndex(line, "\n"); i >= 0 {
			line = line[i+1:]
		}
		fmt.Fprintf(w, "Month close: `menqian close-cycle %s` started %s into the mix and took %s (%s)", c.cycle, c.at.Round(time.Second),
			c.took.Round(100*time.Millisecond), line)
		if !c.mixRunning {
			fmt.Fprint(w, "; it outlasted the mix")
		}
		fmt.Fprintln(w, ".")
	}
}

// resourceSample is what the processes had used at one moment.
type resourceSample struct {
	at        time.Time
	instances []time.Duration // CPU time
	self      time.Duration
	db        time.Duration // MariaDB's CPU time, when it runs on this machine
	dbPID     int
	dbStatus  map[string]float64
	redis     map[string]string
	machine   [2]float64 // busy and total jiffies of every CPU
	loadavg   string
}

func sampleResources(ctx context.Context, a *app, insts []*loadInstance) resourceSample {
	s := resourceSample{at: time.Now(), self: procCPU(os.Getpid()), loadavg: loadAvg()}
	for _, in := range insts {
		s.instances = append(s.instances, procCPU(in.pid()))
	}
	s.machine = machineCPU()
	if a.db.Dialect() == models.MySQL {
		var pidFile string
		if a.db.SQL().QueryRowContext(ctx, "SELECT @@pid_file").Scan(&pidFile) == nil {
			if b, err := os.ReadFile(pidFile); err == nil {
				s.dbPID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				s.db = procCPU(s.dbPID)
			}
		}
		s.dbStatus = map[string]float64{}
		if rows, err := a.db.SQL().QueryContext(ctx, "SHOW GLOBAL STATUS"); err == nil {
			for rows.Next() {
				var k, v string
				if rows.Scan(&k, &v) == nil {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						s.dbStatus[k] = f
					}
				}
			}
			rows.Close()
		}
	}
	if a.redis != nil {
		s.redis, _ = a.redis.ServerStats(ctx)
	}
	return s
}

// procCPU is a process's user and system CPU time from /proc (0 when gone).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ
}

// machineCPU is the busy and total time of every CPU, in jiffies.
func machineCPU() [2]float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return [2]float64{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var total, idle float64
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return [2]float64{total - idle, total}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// vmHWM is a process's peak resident set (KiB), while it runs.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}

func printResources(w io.Writer, a *app, insts []*loadInstance, before, after resourceSample, mixPeaks, endPeaks []int64, stopErrs []error) {
	secs := after.at.Sub(before.at).Seconds()
	cores := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()/secs) }
	fmt.Fprintf(w, "\nResources during the mix (%s; CPU in cores, of the machine's 2):\n\n", after.at.Sub(before.at).Round(time.Second))
	fmt.Fprintln(w, "| process | CPU | peak RSS after the mix | peak RSS at the end |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for i := range insts {
		fmt.Fprintf(w, "| instance %d (`menqian serve`, pid %d) | %s | %d MiB | %d MiB |\n", i+1, insts[i].pid(),
			cores(after.instances[i]-before.instances[i]), mixPeaks[i]>>10, endPeaks[i]>>10)
	}
	fmt.Fprintf(w, "| load (the clients, this process) | %s | | |\n", cores(after.self-before.self))
	if before.dbPID != 0 && before.dbPID == after.dbPID {
		fmt.Fprintf(w, "| MariaDB (mariadbd, pid %d, shared with whatever else uses it) | %s | | |\n", before.dbPID, cores(after.db-before.db))
	}
	if after.redis != nil && before.redis != nil {
		cpu := func(s map[string]string) float64 {
			u, _ := strconv.ParseFloat(s["used_cpu_user"], 64)
			y, _ := strconv.ParseFloat(s["used_cpu_sys"], 64)
			return u + y
		}
		fmt.Fprintf(w, "| Redis (redis-server, pid %s) | %.2f | %s (used_memory_peak) | |\n", after.redis["process_id"],
			(cpu(after.redis)-cpu(before.redis))/secs, after.redis["used_memory_peak_human"])
	}
	if d := after.machine[1] - before.machine[1]; d > 0 {
		fmt.Fprintf(w, "| the whole machine (every process) | %.2f | | |\n", 2*(after.machine[0]-before.machine[0])/d)
	}
	if before.dbStatus != nil {
		rate := func(k string) float64 { return (after.dbStatus[k] - before.dbStatus[k]) / secs }
		fmt.Fprintf(w, "\nMariaDB, server-wide: %.0f queries/s (%.0f SELECT, %.0f INSERT, %.0f UPDATE, %.0f DELETE), %.0f commits/s, "+
			"%.0f rows read/s, %.2f MB/s redo log written, %.0f fsyncs/s, %.0f row lock waits/s; %.1f MB/s received, %.1f MB/s sent.\n",
			rate("Questions"), rate("Com_select"), rate("Com_insert"), rate("Com_update"), rate("Com_delete"), rate("Com_commit"),
			rate("Rows_read"), rate("Innodb_os_log_written")/1e6, rate("Innodb_data_fsyncs"), rate("Innodb_row_lock_waits"),
			rate("Bytes_received")/1e6, rate("Bytes_sent")/1e6)
	}
	if before.redis != nil && after.redis != nil {
		n := func(s map[string]string) float64 {
			v, _ := strconv.ParseFloat(s["total_commands_processed"], 64)
			return v
		}
		fmt.Fprintf(w, "Redis, server-wide: %.0f commands/s.\n", (n(after.redis)-n(before.redis))/secs)
	}
	for i, err := range stopErrs {
		if err != nil {
			fmt.Fprintf(w, "Instance %d: %v\n", i+1, err)
		}
	}
}

// percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (m *mixer) printEndpoints(w io.Writer, res mixResult) {
	secs := res.took.Seconds()
	fmt.Fprintf(w, "| endpoint | requests | ok | refused | errors | req/s | p50 | p95 | p99 | p99 during the close |\n")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var total, errs int64
	for _, e := range res.eps {
		e.mu.Lock()
		n, unanswered := int64(len(e.lat)), e.unanswered
		slices.Sort(e.lat)
		slices.Sort(e.closeLat)
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %s | %v | %v | %v | %v |\n", e.name, n+unanswered, e.ok, e.refused, e.errors,
			formatRate(float64(n)/secs), roundLatency(percentile(e.lat, 50)), roundLatency(percentile(e.lat, 95)),
			roundLatency(percentile(e.lat, 99)), roundLatency(percentile(e.closeLat, 99)))
		total += n + unanswered
		errs += e.errors
		e.mu.Unlock()
	}
	fmt.Fprintf(w, "\n%d requests in %s from the first request to the last answer (%.0f a second; the runs started in the\n"+
		"mix's %s finish after it), %d unexpected (errors: any other status, no answer, or an answer without what the\n"+
		"next step needs; 429 is expected of the citizens' report limits only). Latency from sending to the last byte\n"+
		"of the answer, at the client.\n",
		total, res.took.Round(100*time.Millisecond), float64(total)/secs, m.o.mix.duration, errs)
	for _, e := range res.eps {
		for _, s := range e.errSample {
			fmt.Fprintf(w, "  %s: %s\n", e.name, s)
		}
	}
}

func (m *mixer) printJourneys(w io.Writer, res mixResult) {
	secs := m.o.mix.duration.Seconds()
	fmt.Fprintln(w, "| journey | in the busy hour | planned a second | started a second | shed |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, j := range res.journeys {
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %d |\n", j.name, j.perHour, formatRate(j.rate), formatRate(float64(j.started.Load())/secs), j.shed.Load())
	}
	fmt.Fprintf(w, "\nShed: due while %d runs of the journey were already in flight, so not sent (the service did not keep up).\n", mixInFlight)
}

func (m *mixer) printTimeline(w io.Writer, res mixResult, c *mixClose) {
	step := m.o.mix.duration / time.Duration(len(m.buckets))
	fmt.Fprintln(w, "| from | requests/s | inspections/s | errors | p50 | p99 | CPU: instances | MariaDB | machine | |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for i, b := range m.buckets {
		b.mu.Lock()
		slices.Sort(b.lat)
		from, to := step*time.Duration(i), step*time.Duration(i+1)
		note := ""
		if c.took > 0 && c.at < to && c.at+c.took > from {
			note = "closing " + c.cycle.String()
		}
		cpu := "| | |"
		if s0, s1 := m.cpuAt[i], m.cpuAt[i+1]; s0.machine[1] > 0 && s1.machine[1] > s0.machine[1] {
			db := "—"
			if s1.db > 0 {
				db = fmt.Sprintf("%.2f", (s1.db-s0.db).Seconds()/step.Seconds())
			}
			cpu = fmt.Sprintf("%.2f | %s | %.2f |", (s1.instances-s0.instances).Seconds()/step.Seconds(), db,
				2*(s1.machine[0]-s0.machine[0])/(s1.machine[1]-s0.machine[1]))
		}
		fmt.Fprintf(w, "| %v | %s | %s | %d | %v | %v | %s %s |\n", from.Round(100*time.Millisecond), formatRate(float64(len(b.lat))/step.Seconds()),
			formatRate(float64(b.inspections)/step.Seconds()), b.errors, roundLatency(percentile(b.lat, 50)), roundLatency(percentile(b.lat, 99)), cpu, note)
		b.mu.Unlock()
	}
}

// mixVerdict is what verify found.
type mixVerdict struct {
	recorded, replayed, stored, storedUnanswered int
	ledgerOK                                     bool
	check                                        string
	boards                                       string
	problems                                     []string
}

// verify checks the run: every inspection answered 201 is stored once, as
// answered, with ledger entries that sum to its delta, and nothing else
// of the run is stored but what went unanswered; `menqian check` is clean;
// with Redis, each merchant board equals the county views' (SQL).
func (m *mixer) verify(ctx context.Context, a *app, getenv func(string) string, stderr io.Writer) mixVerdict {
	var v mixVerdict
	m.mu.Lock()
	recorded, unknown := m.recorded, m.unknown
	m.mu.Unlock()
	v.recorded = len(recorded)
	for _, r := range recorded {
		if r.replayed {
			v.replayed++
		}
	}
	rows, err := a.db.SQL().QueryContext(ctx, `SELECT i.id, i.idempotency_key, i.merchant_id, i.delta, COUNT(e.id), COALESCE(SUM(e.points), 0)
		FROM inspections i LEFT JOIN ledger_entries e ON e.inspection_id = i.id
		WHERE i.idempotency_key LIKE ? GROUP BY i.id, i.idempotency_key, i.merchant_id, i.delta`, "mixed-"+m.mark+"-%")
	if err != nil {
		v.problems = append(v.problems, err.Error())
		return v
	}
	seen := map[string]bool{}
	v.ledgerOK = true
	for rows.Next() {
		var id, merchant, entries int64
		var key string
		var delta, sum int
		if err := rows.Scan(&id, &key, &merchant, &delta, &entries, &sum); err != nil {
			v.problems = append(v.problems, err.Error())
			break
		}
		v.stored++
		if seen[key] {
			v.problems = append(v.problems, fmt.Sprintf("inspection %s stored twice", key))
		}
		seen[key] = true
		r, ok := recorded[key]
		switch {
		case !ok && unknown[key]:
			v.storedUnanswered++
		case !ok:
			v.problems = append(v.problems, fmt.Sprintf("inspection %s stored (id %d) but answered with an error", key, id))
		case r.id != id || r.merchant != merchant || r.delta != delta:
			v.problems = append(v.problems, fmt.Sprintf("inspection %s answered id %d merchant %d delta %d, stored id %d merchant %d delta %d",
				key, r.id, r.merchant, r.delta, id, merchant, delta))
		}
		if entries == 0 || sum != delta {
			v.ledgerOK = false
			v.problems = append(v.problems, fmt.Sprintf("inspection %d: %d ledger entries summing to %d, delta %d", id, entries, sum, delta))
		}
	}
	rows.Close()
	for key := range recorded {
		if !seen[key] {
			v.problems = append(v.problems, fmt.Sprintf("inspection %s answered 201 but not stored", key))
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"check"}, getenv, &out, stderr); err != nil {
		v.problems = append(v.problems, fmt.Sprintf("menqian check: %v", err))
	}
	v.check = strings.TrimSpace(out.String())
	if a.redis != nil {
		v.boards = m.compareBoards(ctx, a, &v)
	}
	if len(v.problems) > 10 {
		v.problems = append(v.problems[:10], fmt.Sprintf("… and %d more", len(v.problems)-10))
	}
	return v
}

// compareBoards reads every county's and the city's merchant board from
// Redis (the app's service) and from the county views (a service without
// Redis), page by page, and says whether they agree.
func (m *mixer) compareBoards(ctx context.Context, a *app, v *mixVerdict) string {
	secret, err := service.LoadSecret(ctx, a.db, a.cfg.Secret)
	if err != nil {
		v.problems = append(v.problems, err.Error())
		return ""
	}
	sqlSvc := service.New(service.Options{DB: a.db, Policy: a.policy, Secret: secret, Photos: a.photos, PublicURL: a.cfg.PublicURL, Logger: a.log})
	city := service.Actor{Role: service.RoleCityAdmin}
	lines := 0
	scopes := []service.BoardQuery{{Scope: leaderboard.City}}
	for _, id := range m.city.counties {
		scopes = append(scopes, service.BoardQuery{Scope: leaderboard.County, ID: id})
	}
	for _, q := range scopes {
		for off := 0; ; off += service.MaxPage {
			q.Paging = service.Paging{Limit: service.MaxPage, Offset: off}
			r, err := a.svc.MerchantBoard(ctx, city, q)
			if err != nil {
				v.problems = append(v.problems, fmt.Sprintf("board %s %d from Redis: %v", q.Scope, q.ID, err))
				return ""
			}
			s, err := sqlSvc.MerchantBoard(ctx, city, q)
			if err != nil {
				v.problems = append(v.problems, fmt.Sprintf("board %s %d from SQL: %v", q.Scope, q.ID, err))
				return ""
			}
			if r.Total != s.Total || len(r.Items) != len(s.Items) {
				v.problems = append(v.problems, fmt.Sprintf("board %s %d at %d: Redis %d of %d lines, SQL %d of %d", q.Scope, q.ID, off, len(r.Items), r.Total, len(s.Items), s.Total))
				return ""
			}
			for i := range r.Items {
				if r.Items[i] != s.Items[i] {
					v.problems = append(v.problems, fmt.Sprintf("board %s %d line %d: Redis %+v, SQL %+v", q.Scope, q.ID, off+i+1, r.Items[i], s.Items[i]))
					return ""
				}
			}
			lines += len(r.Items)
			if off+service.MaxPage >= r.Total {
				break
			}
		}
	}
	return fmt.Sprintf("the Redis merchant boards of the city and of each county equal the county views' (SQL), line by line (%d lines)", lines)
}

func (v mixVerdict) print(w io.Writer) {
	if len(v.problems) == 0 {
		fmt.Fprintln(w, "Consistency: ok.")
	} else {
		fmt.Fprintln(w, "Consistency: PROBLEMS.")
	}
	fmt.Fprintf(w, "- inspections: %d answered 201 (%d of them to a resend, replaying a first sending that was stored though its answer was lost or 5xx), "+
		"%d stored under this run's keys (%d of them sent without a final answer), each once; ledger entries sum to each delta: %v\n",
		v.recorded, v.replayed, v.stored, v.storedUnanswered, v.ledgerOK)
	fmt.Fprintf(w, "- menqian check: %s\n", v.check)
	if v.boards != "" {
		fmt.Fprintf(w, "- boards: %s\n", v.boards)
	}
	for _, p := range v.problems {
		fmt.Fprintf(w, "- PROBLEM: %s\n", p)
	}
}
