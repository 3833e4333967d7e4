// Command menqian is the 门前五包 credit service: one binary with subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/httpapi"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
	"github.com/menqian/menqian/service/ratelimit"
	"github.com/menqian/menqian/service/web"
)

func main() {
	// The MySQL driver's and go-redis's own lines as JSON, not plain lines on
	// stderr. Each keeps one logger for the whole process: set once, before
	// any connection is opened (not by openApp, which commands run in
	// parallel in tests).
	driverLog := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	models.LogDriverTo(driverLog)
	leaderboard.LogRedisTo(driverLog)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "menqian:", err)
		var ec exitCode
		if errors.As(err, &ec) {
			os.Exit(int(ec))
		}
		os.Exit(1)
	}
}

// exitCode is an error that asks for a specific exit status (check: 2).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const usage = `menqian — 门前五包 credit service

Usage: menqian [command] [flags]

Commands:
  serve                 run the HTTP service (default)
  migrate               apply pending database migrations and exit
  demo                  load Zibo sample data into an empty database and print the logins
  check                 recompute every score from the ledger, check the change log and frozen
                        road results; exit 2 listing what differs
  plaques               write a ZIP of plaque QR codes for a county or road
  close-cycle YYYY-MM   freeze a finished cycle's results
  leaderboards rebuild  rebuild the Redis leaderboards from the database
  photos migrate        copy the photos of MENQIAN_PHOTO_DIR into the MENQIAN_PHOTO_STORE bucket
  healthcheck           GET /healthz of a running instance (for containers)
  load                  seed a city and measure every read under wrk against a bare handler

Configuration comes from MENQIAN_* environment variables (see README).
Run "menqian COMMAND -h" for a command's flags.
`

// run is main without the process: arguments, environment and output are injected.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, explicit := "serve", false
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args, explicit = args[0], args[1:], true
	}
	if !explicit && len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args, getenv, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args, getenv, stdout, stderr)
	case "check":
		return cmdCheck(ctx, args, getenv, stdout, stderr)
	case "plaques":
		return cmdPlaques(ctx, args, getenv, stdout, stderr)
	case "close-cycle":
		return cmdCloseCycle(ctx, args, getenv, stdout, stderr)
	case "leaderboards":
		return cmdLeaderboards(ctx, args, getenv, stdout, stderr)
	case "photos":
		return cmdPhotos(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, args, getenv, stdout, stderr)
	case "load":
		return cmdLoad(ctx, args, getenv, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// newFlags makes a command's flag set that prints its help to stdout.
func newFlags(name, help string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: menqian %s\n\n%s\n", name, help)
		fs.PrintDefaults()
	}
	return fs
}

// app is what every command that touches the database needs.
type app struct {
	cfg    config
	log    *slog.Logger
	db     *models.DB
	policy *policy.Policy
	svc    *service.Service
	redis  *leaderboard.Redis // nil without MENQIAN_REDIS_URL
	limits ratelimit.Limiter  // report and login limits: Redis's, with memory while it fails; memory alone without it
	photos photostore.Store   // MENQIAN_PHOTO_STORE's bucket, or the files in MENQIAN_PHOTO_DIR
	close  []func()

	draining atomic.Bool // serve is stopping: /readyz says 503 while requests are still served
}

// handler is the whole service as serve answers it on its public address: the
// JSON API and the ops endpoints, the pages. Their metrics are counted there
// and served by metrics, which serve puts on MENQIAN_METRICS_ADDR only.
func (a *app) handler() http.Handler {
	public, _ := a.handlers()
	return public
}

// handlers returns the public handler and the one that answers /metrics.
func (a *app) handlers() (public, metrics http.Handler) {
	clients, _ := a.cfg.clients() // validated by loadConfig
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	api := httpapi.New(httpapi.Options{Service: a.svc, Logger: a.log, Registry: reg, RequestTimeout: a.cfg.Timeout, Clients: clients, Ready: func() error {
		if a.draining.Load() {
			return service.Errorf(service.CodeUnavailable, "本实例正在停止")
		}
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return a.db.Ping(c)
	}})
	pages := web.New(web.Options{Service: a.svc, Logger: a.log, Registry: reg, Secure: strings.HasPrefix(a.cfg.PublicURL, "https://"),
		PolicyFile: a.cfg.PolicyPath, Limiter: a.limits, RequestTimeout: a.cfg.Timeout, Clients: clients})
	metricsMux := http.NewServeMux()
	metricsMux.Handle("/metrics", api)
	return routes(api, pages), metricsMux
}

func (a *app) Close() {
	for i := len(a.close) - 1; i >= 0; i-- {
		a.close[i]()
	}
}

// openApp reads the configuration, opens the database (migrating when asked)
// and builds the service.
func openApp(ctx context.Context, getenv func(string) string, stderr io.Writer, migrate bool) (*app, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a := &app{cfg: cfg, log: log}
	a.policy = policy.Default()
	if cfg.PolicyPath != "" {
		if a.policy, err = policy.Load(cfg.PolicyPath); err != nil {
			return nil, err
		}
	}
	a.db, err = models.Open(models.Config{MySQLDSN: cfg.MySQLDSN, SQLitePath: cfg.SQLitePath, MaxOpenConns: cfg.MySQLMaxConns})
	if err != nil {
		return nil, err
	}
	a.close = append(a.close, func() { a.db.Close() })
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.db.Ping(pingCtx); err != nil {
		a.Close()
		return nil, fmt.Errorf("database not reachable: %v", err)
	}
	if migrate {
		n, err := a.db.Migrate(ctx)
		if err != nil {
			a.Close()
			return nil, err
		}
		if n > 0 {
			log.Info("migrations applied", "count", n)
		}
	} else if pending, err := a.db.Pending(ctx); err == nil && pending {
		a.Close()
		return nil, errors.New("database has pending migrations: run `menqian migrate` (MENQIAN_MIGRATE=off)")
	}
	secret, err := service.LoadSecret(ctx, a.db, cfg.Secret)
	if err != nil {
		a.Close()
		return nil, err
	}
	if err := a.wireLeaderboards(); err != nil {
		a.Close()
		return nil, err
	}
	if a.photos, err = openPhotos(cfg); err != nil {
		a.Close()
		return nil, err
	}
	var board leaderboard.Board // stays a nil interface without Redis: SQL then
	a.limits = ratelimit.NewMemory(20000)
	if a.redis != nil {
		board = a.redis
		a.limits = ratelimit.NewFallback(a.redis.Limiter(), a.limits, log)
	}
	a.svc = service.New(service.Options{DB: a.db, Policy: a.policy, Secret: secret, Photos: a.photos,
		PublicURL: cfg.PublicURL, Logger: log, Board: board, Limiter: a.limits})
	return a, nil
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "Run the HTTP service. Applies pending migrations first unless MENQIAN_MIGRATE=off.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, getenv, stderr, cfg.Migrate)
	if err != nil {
		return err
	}
	defer a.Close()
	a.log.Info("starting menqian", a.cfg.masked()...)
	if err := a.checkPhotos(ctx); err != nil {
		return err
	}
	pw, created, err := a.svc.Bootstrap(ctx, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created && pw != "" {
		fmt.Fprintf(stdout, "\nCreated city admin account.\n  username: admin\n  password: %s\n(shown once; set MENQIAN_ADMIN_PASSWORD to choose it)\n\n", pw)
	} else if created {
		fmt.Fprintln(stdout, "Created city admin account admin with MENQIAN_ADMIN_PASSWORD.")
	}

	handler, metrics := a.handlers()
	srv := &http.Server{Addr: cfg.Addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 2)
	go func() { errc <- srv.ListenAndServe() }()
	if cfg.MetricsAddr != "" {
		ml, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("MENQIAN_METRICS_ADDR: %w", err)
		}
		msrv := &http.Server{Handler: metrics, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- fmt.Errorf("metrics: %w", msrv.Serve(ml)) }()
		defer msrv.Close()
		fmt.Fprintf(stdout, "metrics on %s/metrics\n", listenURL(cfg.MetricsAddr))
	}
	a.startBackground(ctx)
	fmt.Fprintf(stdout, "menqian listening on %s — open %s/login in a browser (plaques point at %s)\n", listenURL(cfg.Addr), listenURL(cfg.Addr), cfg.PublicURL)
	select {
	case err := <-errc:
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	// Drain: say not ready, so the load balancer stops sending, while still
	// serving what it sends meanwhile; then stop accepting and let the
	// requests in flight finish.
	a.draining.Store(true)
	a.log.Info("draining", "for", cfg.Drain.String())
	select {
	case <-time.After(cfg.Drain):
	case err := <-errc:
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	a.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.Timeout+5*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "Apply pending database migrations and exit.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	db, err := models.Open(models.Config{MySQLDSN: cfg.MySQLDSN, SQLitePath: cfg.SQLitePath, MaxOpenConns: cfg.MySQLMaxConns})
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s); database %s is up to date\n", n, db.Dialect())
	return nil
}

func cmdCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("check", "Recompute every merchant's score from the ledger. Exit status 2 lists those that differ.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openApp(ctx, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer a.Close()
	bad, n, err := a.svc.Check(ctx)
	if err != nil {
		return err
	}
	for _, m := range bad {
		fmt.Fprintf(stdout, "MISMATCH merchant %d cycle %s: stored deductions=%d bonuses=%d serious=%d entries=%d score=%d; ledger deductions=%d bonuses=%d serious=%d entries=%d score=%d\n",
			m.MerchantID, m.Cycle, m.Stored.Deductions, m.Stored.Bonuses, m.Stored.Serious, m.Stored.Entries, m.StoredScore,
			m.Ledger.Deductions, m.Ledger.Bonuses, m.Ledger.Serious, m.Ledger.Entries, m.RecomputedScore)
	}
	problems, err := a.svc.CheckViews(ctx)
	if err != nil {
		return err
	}
	stars, err := a.svc.CheckRepairs(ctx) // the closed cycles' stars, with the credit repairs
	if err != nil {
		return err
	}
	problems = append(problems, stars...)
	for _, p := range problems {
		fmt.Fprintf(stdout, "MISMATCH %s\n", p)
	}
	if len(bad) > 0 || len(problems) > 0 {
		fmt.Fprintf(stdout, "%d of %d score rows differ from the ledger; %d problems with the change log, the frozen results and the repairs\n",
			len(bad), n, len(problems))
		return exitCode(2)
	}
	fmt.Fprintf(stdout, "ok: %d score rows match the ledger; the change log, the frozen results (stars with their repairs) and the repairs agree\n", n)
	return nil
}

func cmdHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", "GET /healthz of the instance at MENQIAN_ADDR; exit 0 when it answers 200.", stdout)
	url := fs.String("url", "", "URL to check (default http://127.0.0.1<MENQIAN_ADDR port>/healthz)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		_, port, _ := splitPort(cfg.Addr)
		*url = "http://127.0.0.1:" + port + "/healthz"
	}
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(*url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", *url, resp.Status)
	}
	return nil
}

func splitPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }

// routes joins the JSON API and the pages: /api/ and the health endpoints go
// to the API (never /metrics, which is kept off the public address), everything else (the sign-in, the phone pages, the plaque page) to
// the pages.
func routes(api, pages http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	mux.Handle("/open311/", api) // Open311 GeoReport v2 (httpapi/open311.go)
	mux.Handle("/", pages)
	return mux
}

// listenURL is the address the service actually listens on, as a browser on
// this machine opens it (":8080" is http://localhost:8080).
func listenURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
