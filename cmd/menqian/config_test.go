package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/service/photostore"
)

// envOf is a getenv over name=value pairs.
func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// TestLoadConfigDefaults: with nothing set, the design's table of defaults.
func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	got, err := loadConfig(envOf())
	if err != nil {
		t.Fatal(err)
	}
	want := config{Addr: ":8080", MySQLDSN: "", SQLitePath: "menqian.db", RedisURL: "", PublicURL: "http://localhost:8080",
		Secret: "", AdminPassword: "", PolicyPath: "", PhotoDir: "photos", Migrate: true, Timeout: 15 * time.Second, Drain: 5 * time.Second}
	if got != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestLoadConfigValues(t *testing.T) {
	t.Parallel()
	got, err := loadConfig(envOf(
		"MENQIAN_ADDR", "127.0.0.1:9090",
		"MENQIAN_MYSQL_DSN", "root:pw@tcp(db:3306)/menqian?parseTime=true&charset=utf8mb4",
		"MENQIAN_SQLITE_PATH", "/data/m.db",
		"MENQIAN_REDIS_URL", "redis://cache:6379/1",
		"MENQIAN_REDIS_PREFIX", "menqian-zibo",
		"MENQIAN_MYSQL_MAX_CONNS", "40",
		"MENQIAN_PUBLIC_URL", "https://mq.example.cn/",
		"MENQIAN_SECRET", "0123456789abcdef",
		"MENQIAN_ADMIN_PASSWORD", "admin-pass",
		"MENQIAN_POLICY", "/etc/menqian/policy.yaml",
		"MENQIAN_PHOTO_DIR", "/data/photos",
		"MENQIAN_MIGRATE", "off",
		"MENQIAN_METRICS_ADDR", "127.0.0.1:9464",
		"MENQIAN_REQUEST_TIMEOUT", "30s",
		"MENQIAN_DRAIN", "0s",
		"MENQIAN_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1",
		"MENQIAN_PHOTO_STORE", "s3://menqian-photos/zibo?endpoint=seaweedfs:8333&secure=false",
		"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY", "secret-key-1",
		"AWS_SESSION_TOKEN", "session-1",
	))
	if err != nil {
		t.Fatal(err)
	}
	want := config{Addr: "127.0.0.1:9090", MySQLDSN: "root:pw@tcp(db:3306)/menqian?parseTime=true&charset=utf8mb4", SQLitePath: "/data/m.db",
		RedisURL: "redis://cache:6379/1", RedisPrefix: "menqian-zibo", MySQLMaxConns: 40, PublicURL: "https://mq.example.cn", Secret: "0123456789abcdef", AdminPassword: "admin-pass",
		PolicyPath: "/etc/menqian/policy.yaml", PhotoDir: "/data/photos", Migrate: false,
		MetricsAddr: "127.0.0.1:9464", Timeout: 30 * time.Second, Drain: 0, Proxies: "10.0.0.0/8, 127.0.0.1",
		PhotoStore: "s3://menqian-photos/zibo?endpoint=seaweedfs:8333&secure=false",
		S3: photostore.S3Config{Bucket: "menqian-photos", Prefix: "zibo/", Endpoint: "seaweedfs:8333", PathStyle: true,
			AccessKey: "AKIDEXAMPLE", SecretKey: "secret-key-1", SessionToken: "session-1"}}
	if got != want {
		t.Errorf("values:\n got %+v\nwant %+v", got, want)
	}
	for _, v := range []string{"on", "true", "1"} {
		if c, err := loadConfig(envOf("MENQIAN_MIGRATE", v)); err != nil || !c.Migrate {
			t.Errorf("MENQIAN_MIGRATE=%s: migrate %v, %v", v, c.Migrate, err)
		}
	}
	for _, v := range []string{"off", "false", "0"} {
		if c, err := loadConfig(envOf("MENQIAN_MIGRATE", v)); err != nil || c.Migrate {
			t.Errorf("MENQIAN_MIGRATE=%s: migrate %v, %v", v, c.Migrate, err)
		}
	}
	for _, addr := range []string{":8080", "0.0.0.0:80", "[::1]:8080", "127.0.0.1:0"} {
		if _, err := loadConfig(envOf("MENQIAN_ADDR", addr)); err != nil {
			t.Errorf("MENQIAN_ADDR=%s: %v", addr, err)
		}
	}
}

// TestLoadConfigErrors: each bad value is refused with an error of one line
// that names the variable and does not repeat a secret.
func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, value string }{
		{"MENQIAN_ADDR", "nonsense"},
		{"MENQIAN_ADDR", "localhost:"},
		{"MENQIAN_ADDR", "a\nb:80"},
		{"MENQIAN_ADDR", ":99999"},
		{"MENQIAN_ADDR", "localhost:abc"},
		{"MENQIAN_ADDR", "8080"},
		{"MENQIAN_METRICS_ADDR", "9464"},
		{"MENQIAN_REQUEST_TIMEOUT", "15"},
		{"MENQIAN_REQUEST_TIMEOUT", "1ms"},
		{"MENQIAN_DRAIN", "-1s"},
		{"MENQIAN_DRAIN", "soon"},
		{"MENQIAN_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"},
		{"MENQIAN_METRICS_ADDR", ":8080"}, // the public address
		{"MENQIAN_MYSQL_DSN", "garbage"},
		{"MENQIAN_MYSQL_DSN", "root:s3cret-pw@tcp(127.0.0.1:3306)/"},
		{"MENQIAN_MYSQL_DSN", "root:s3cret-pw@tcp(127.0.0.1:3306/menqian"},
		{"MENQIAN_MYSQL_DSN", "root:s3cret-pw@tcp(127.0.0.1:3306)/menqian?parseTime=maybe"},
		{"MENQIAN_REDIS_URL", "http://x"},
		{"MENQIAN_REDIS_URL", "redis://"},
		{"MENQIAN_REDIS_URL", "cache:6379"},
		{"MENQIAN_REDIS_URL", "redis+cluster://:s3cret-pw@c1:7000,c2"},        // a seed without a port
		{"MENQIAN_REDIS_URL", "redis+cluster://:s3cret-pw@c1:7000,c2:7000/3"}, // a cluster has only database 0
		{"MENQIAN_REDIS_URL", "redis+cluster://:s3cret-pw@c1:7000?dial_timeout=soon"},
		{"MENQIAN_MYSQL_MAX_CONNS", "0"},
		{"MENQIAN_MYSQL_MAX_CONNS", "many"},
		{"MENQIAN_MYSQL_MAX_CONNS", "+40"},
		{"MENQIAN_REDIS_PREFIX", "lb:x"},
		{"MENQIAN_REDIS_PREFIX", "{c1}"},
		{"MENQIAN_REDIS_PREFIX", strings.Repeat("x", 65)},
		{"MENQIAN_PUBLIC_URL", "ftp://x"},
		{"MENQIAN_PUBLIC_URL", "mq.example.cn"},
		{"MENQIAN_PUBLIC_URL", "https://"},
		{"MENQIAN_MIGRATE", "maybe"},
		{"MENQIAN_SECRET", "short"},
		{"MENQIAN_SECRET", "s3cret-15-chars"},
		{"MENQIAN_ADMIN_PASSWORD", "s3cret"},
		{"MENQIAN_ADMIN_PASSWORD", strings.Repeat("s3cret", 13)},
		{"MENQIAN_PHOTO_STORE", "/data/photos"},
		{"MENQIAN_PHOTO_STORE", "s3://?endpoint=minio:9000"},
		{"MENQIAN_PHOTO_STORE", "s3://AKID:s3cret-key@photos?endpoint=minio:9000"},
		{"MENQIAN_PHOTO_STORE", "s3://photos?endpoint=https://minio:9000"},
		{"MENQIAN_PHOTO_STORE", "s3://photos?endpoint=minio:9000&secret=s3cret"},
		{"MENQIAN_PHOTO_STORE", "s3://photos?endpoint=minio:9000"}, // no credentials
	} {
		_, err := loadConfig(envOf(c.name, c.value))
		if err == nil {
			t.Errorf("%s=%q: no error", c.name, c.value)
			continue
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\r\n") {
			t.Errorf("%s=%q: error has more than one line: %q", c.name, c.value, msg)
		}
		if !strings.Contains(msg, c.name) {
			t.Errorf("%s=%q: error does not name the variable: %q", c.name, c.value, msg)
		}
		if strings.Contains(msg, "s3cret") {
			t.Errorf("%s=%q: error repeats the secret: %q", c.name, c.value, msg)
		}
	}
	// Half the credentials: refused, naming both variables, never the one given.
	for _, env := range [][]string{{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "s3cret-key"}} {
		_, err := loadConfig(envOf(append([]string{"MENQIAN_PHOTO_STORE", "s3://photos?endpoint=minio:9000"}, env...)...))
		if err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") || strings.Contains(err.Error(), env[1]) {
			t.Errorf("only %s: %v", env[0], err)
		}
	}
	// Several problems at once: still one line, each variable named.
	_, err := loadConfig(envOf("MENQIAN_ADDR", "nonsense", "MENQIAN_REDIS_URL", "http://x", "MENQIAN_MIGRATE", "maybe"))
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("three bad values: %v", err)
	}
	for _, name := range []string{"MENQIAN_ADDR", "MENQIAN_REDIS_URL", "MENQIAN_MIGRATE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%q does not name %s", err, name)
		}
	}
}

// TestMaskedHidesSecrets: what serve logs at start names the database and
// Redis it uses but never a password or the secret, however they are spelled.
func TestMaskedHidesSecrets(t *testing.T) {
	t.Parallel()
	const (
		dsnPW    = "dsn-Pa55word"
		redisPW  = "redis-Pa55"
		secret   = "a-very-secret-value-123"
		adminPW  = "admin-Pa55word"
		oddDSNPW = "p@ss:w/rd-odd"
		s3Key    = "AKIDEXAMPLEKEY"
		s3Secret = "s3-Pa55-secret"
		s3Token  = "s3-session-Pa55"
	)
	for _, c := range []struct{ dsn, redis string }{
		{"root:" + dsnPW + "@tcp(db:3306)/menqian?parseTime=true", "redis://:" + redisPW + "@cache:6379/0"},
		{"root:" + dsnPW + "@tcp(db:3306)/menqian", "redis://default:" + redisPW + "@cache:6379/0"},
		{"root:" + oddDSNPW + "@tcp(db:3306)/menqian", "rediss://default:" + redisPW + "@cache:6380/2"},
		{"root:" + dsnPW + "@tcp(db:3306)/menqian", "redis+cluster://:" + redisPW + "@cache:6370,cache2:6371?dial_timeout=1s"},
	} {
		cfg, err := loadConfig(envOf("MENQIAN_MYSQL_DSN", c.dsn, "MENQIAN_REDIS_URL", c.redis, "MENQIAN_SECRET", secret,
			"MENQIAN_ADMIN_PASSWORD", adminPW, "MENQIAN_PHOTO_STORE", "s3://menqian-photos?endpoint=oss.example.cn",
			"AWS_ACCESS_KEY_ID", s3Key, "AWS_SECRET_ACCESS_KEY", s3Secret, "AWS_SESSION_TOKEN", s3Token))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting menqian", cfg.masked()...)
		out := buf.String() + fmt.Sprint(cfg.masked()...)
		for _, s := range []string{dsnPW, redisPW, secret, adminPW, oddDSNPW, "Pa55", "p@ss", s3Key, s3Secret, s3Token} {
			if strings.Contains(out, s) {
				t.Errorf("masked configuration shows %q: %s", s, out)
			}
		}
		for _, s := range []string{"db:3306", "menqian", "cache:63", `"secret":"(set)"`, `"admin_password":"(set)"`,
			`"photo_store":"s3://menqian-photos?endpoint=oss.example.cn&path_style=true&secure=true"`} {
			if !strings.Contains(out, s) {
				t.Errorf("masked configuration lacks %q: %s", s, out)
			}
		}
	}
	cfg, _ := loadConfig(envOf())
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", cfg.masked()...)
	if !strings.Contains(buf.String(), `"secret":"(generated)"`) || !strings.Contains(buf.String(), `"sqlite_path":"menqian.db"`) ||
		!strings.Contains(buf.String(), `"photo_store":"local:photos"`) {
		t.Errorf("defaults masked: %s", buf.String())
	}
}
