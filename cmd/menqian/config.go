package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/menqian/menqian/service/clientaddr"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/photostore"
)

// config is the design's configuration table, read once from the environment.
type config struct {
	Addr          string
	MetricsAddr   string        // where /metrics is served; empty: nowhere
	Timeout       time.Duration // each request's deadline
	Drain         time.Duration // how long a stopping instance keeps serving while /readyz says 503
	Proxies       string        // MENQIAN_TRUSTED_PROXIES: reverse proxies whose X-Forwarded-For is believed (comma-separated)
	MySQLDSN      string
	MySQLMaxConns int // MENQIAN_MYSQL_MAX_CONNS: this process's MySQL connections at most; 0: models.DefaultMaxOpenConns
	SQLitePath    string
	RedisURL      string
	RedisPrefix   string // MENQIAN_REDIS_PREFIX: the keys' prefix; empty: the board's default ("lb")
	PublicURL     string
	Secret        string
	AdminPassword string
	PolicyPath    string
	PhotoDir      string
	// PhotoStore is MENQIAN_PHOTO_STORE, an S3 bucket's URL; empty: the
	// photos are files in PhotoDir. S3 is that URL read, with the AWS_*
	// credentials.
	PhotoStore string
	S3         photostore.S3Config
	Migrate    bool
}

// loadConfig reads and validates the MENQIAN_* variables; every problem is one line.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := config{
		Addr:          get("MENQIAN_ADDR", ":8080"),
		MetricsAddr:   getenv("MENQIAN_METRICS_ADDR"),
		MySQLDSN:      getenv("MENQIAN_MYSQL_DSN"),
		SQLitePath:    get("MENQIAN_SQLITE_PATH", "menqian.db"),
		RedisURL:      getenv("MENQIAN_REDIS_URL"),
		RedisPrefix:   getenv("MENQIAN_REDIS_PREFIX"),
		PublicURL:     strings.TrimRight(get("MENQIAN_PUBLIC_URL", "http://localhost:8080"), "/"),
		Secret:        getenv("MENQIAN_SECRET"),
		AdminPassword: getenv("MENQIAN_ADMIN_PASSWORD"),
		PolicyPath:    getenv("MENQIAN_POLICY"),
		PhotoDir:      get("MENQIAN_PHOTO_DIR", "photos"),
		PhotoStore:    getenv("MENQIAN_PHOTO_STORE"),
	}
	var errs []string
	switch m := get("MENQIAN_MIGRATE", "on"); m {
	case "on", "true", "1":
		c.Migrate = true
	case "off", "false", "0":
	default:
		errs = append(errs, fmt.Sprintf("MENQIAN_MIGRATE=%q: want on or off", m))
	}
	if !validAddr(c.Addr) {
		errs = append(errs, fmt.Sprintf("MENQIAN_ADDR=%q: want host:port or :port", c.Addr))
	}
	var err error
	if c.Timeout, err = time.ParseDuration(get("MENQIAN_REQUEST_TIMEOUT", "15s")); err != nil || c.Timeout < 100*time.Millisecond || c.Timeout > 10*time.Minute {
		errs = append(errs, fmt.Sprintf("MENQIAN_REQUEST_TIMEOUT=%q: want a duration from 100ms to 10m, e.g. 15s", getenv("MENQIAN_REQUEST_TIMEOUT")))
	}
	if c.Drain, err = time.ParseDuration(get("MENQIAN_DRAIN", "5s")); err != nil || c.Drain < 0 || c.Drain > 5*time.Minute {
		errs = append(errs, fmt.Sprintf("MENQIAN_DRAIN=%q: want a duration from 0s to 5m, e.g. 5s", getenv("MENQIAN_DRAIN")))
	}
	c.Proxies = strings.TrimSpace(getenv("MENQIAN_TRUSTED_PROXIES"))
	if _, err := c.clients(); err != nil {
		errs = append(errs, "MENQIAN_TRUSTED_PROXIES: "+err.Error())
	}
	if c.MetricsAddr != "" {
		if !validAddr(c.MetricsAddr) {
			errs = append(errs, fmt.Sprintf("MENQIAN_METRICS_ADDR=%q: want host:port or :port", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr {
			errs = append(errs, "MENQIAN_METRICS_ADDR: must differ from MENQIAN_ADDR (the metrics stay off the public address)")
		}
	}
	if v := getenv("MENQIAN_MYSQL_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 || strconv.Itoa(n) != v {
			errs = append(errs, fmt.Sprintf("MENQIAN_MYSQL_MAX_CONNS=%q: want a number of connections from 1 to 10000", v))
		}
		c.MySQLMaxConns = n
	}
	if c.MySQLDSN != "" {
		if cfg, err := mysqldrv.ParseDSN(c.MySQLDSN); err != nil {
			errs = append(errs, "MENQIAN_MYSQL_DSN: "+err.Error())
		} else if cfg.DBName == "" {
			errs = append(errs, "MENQIAN_MYSQL_DSN: no database name (e.g. root@tcp(127.0.0.1:3306)/menqian?parseTime=true)")
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err == nil && (u.Scheme == "redis+cluster" || u.Scheme == "rediss+cluster") {
			if _, err := leaderboard.ParseClusterURL(c.RedisURL); err != nil {
				errs = append(errs, "MENQIAN_REDIS_URL: "+err.Error())
			}
		} else if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			errs = append(errs, "MENQIAN_REDIS_URL: want redis://host:port/db, or redis+cluster://host:port,host:port for a cluster")
		}
	}
	if c.PhotoStore != "" {
		if s3, err := photostore.ParseS3URL(c.PhotoStore); err != nil {
			errs = append(errs, "MENQIAN_PHOTO_STORE: "+err.Error())
		} else {
			// The standard variables of every S3 client, so the same
			// Secret serves menqian and the tools beside it.
			s3.AccessKey, s3.SecretKey, s3.SessionToken = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
			if s3.AccessKey == "" || s3.SecretKey == "" {
				errs = append(errs, "MENQIAN_PHOTO_STORE: set the bucket's credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
			}
			c.S3 = s3
		}
	}
	if c.RedisPrefix != "" && !redisPrefix.MatchString(c.RedisPrefix) {
		errs = append(errs, "MENQIAN_REDIS_PREFIX: 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, "MENQIAN_PUBLIC_URL: want an http(s) URL such as https://mq.example.cn")
	}
	if c.Secret != "" && len(c.Secret) < 16 {
		errs = append(errs, "MENQIAN_SECRET: at least 16 characters")
	}
	if c.AdminPassword != "" && (len(c.AdminPassword) < 8 || len(c.AdminPassword) > 72) {
		errs = append(errs, "MENQIAN_ADMIN_PASSWORD: 8 to 72 characters")
	}
	if len(errs) > 0 {
		return c, errors.New("configuration: " + strings.Join(errs, "; "))
	}
	return c, nil
}

// redisPrefix is what a Redis key prefix may be: no ':' (the separator) and
// no braces (a cluster's hash tags).
var redisPrefix = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// clients is the resolver of client addresses behind MENQIAN_TRUSTED_PROXIES.
func (c config) clients() (*clientaddr.Resolver, error) {
	return clientaddr.New(strings.Split(c.Proxies, ","))
}

// validAddr reports whether addr is host:port or :port.
func validAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	return err == nil && validPort(port) && !strings.ContainsFunc(host, unicode.IsSpace)
}

// validPort reports whether p is a port number, 0 to 65535 (0: any free port).
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535 && p == strconv.Itoa(n)
}

// masked is the configuration as it may be logged: no secret, no password.
func (c config) masked() []any {
	dsn := ""
	if c.MySQLDSN != "" {
		if cfg, err := mysqldrv.ParseDSN(c.MySQLDSN); err == nil {
			if cfg.Passwd != "" {
				cfg.Passwd = "****"
			}
			dsn = cfg.FormatDSN()
		}
	}
	redis := c.RedisURL
	if u, err := url.Parse(c.RedisURL); err == nil && u.User != nil {
		u.User = url.UserPassword(u.User.Username(), "****")
		redis = u.String()
	}
	set := func(s string) string {
		if s == "" {
			return "(generated)"
		}
		return "(set)"
	}
	photos := "local:" + c.PhotoDir
	if c.PhotoStore != "" {
		photos = c.S3.String() // never the credentials
	}
	return []any{"addr", c.Addr, "metrics_addr", c.MetricsAddr, "request_timeout", c.Timeout.String(), "drain", c.Drain.String(), "trusted_proxies", c.Proxies, "mysql_dsn", dsn, "mysql_max_conns", c.MySQLMaxConns, "sqlite_path", c.SQLitePath, "redis_url", redis, "redis_prefix", c.RedisPrefix, "public_url", c.PublicURL,
		"secret", set(c.Secret), "admin_password", set(c.AdminPassword), "policy", c.PolicyPath, "photo_store", photos, "migrate", c.Migrate}
}
