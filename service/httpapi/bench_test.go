package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// benchClients is the concurrency the issue measures at: 32 clients.
const benchClients = 32

// benchMerchants spreads the load the way a county's patrols do.
const benchMerchants = 200

// parallel runs body on benchClients goroutines (RunParallel starts
// parallelism × GOMAXPROCS of them) and reports requests per second.
func parallel(b *testing.B, body func(i int64) error) {
	b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var n atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := body(n.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkInspection posts inspections through the real HTTP handler on
// MariaDB: 32 clients, 200 merchants, each request one deduction with a photo
// and a new Idempotency-Key. "loopback" goes through a TCP listener and an
// HTTP client in this process (both share the CPUs with MariaDB); "handler"
// calls the same handler in-process, without the client and the sockets.
// Compare with BenchmarkRawMariaDB from the same run:
//
//	go test ./service/httpapi -run '^$' -bench 'Inspection|RawMariaDB' -benchtime 20s -cpu 2
func BenchmarkInspection(b *testing.B) {
	b.Run("loopback", func(b *testing.B) {
		e, bodies, auth := benchWorld(b)
		client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients}}
		url := e.srv.URL + "/api/v1/inspections"
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		parallel(b, func(i int64) error {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[i%benchMerchants]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", auth)
			req.Header.Set("Idempotency-Key", run+"-"+strconv.FormatInt(i, 10))
			res, err := client.Do(req)
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 201 || res.Header.Get("Idempotent-Replayed") != "" {
				return fmt.Errorf("status %d: %s", res.StatusCode, body)
			}
			return nil
		})
		b.StopTimer()
		e.checkClean()
	})
	b.Run("handler", func(b *testing.B) {
		e, bodies, auth := benchWorld(b)
		h := e.srv.Config.Handler
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		parallel(b, func(i int64) error {
			req := httptest.NewRequest("POST", "/api/v1/inspections", bytes.NewReader(bodies[i%benchMerchants]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", auth)
			req.Header.Set("Idempotency-Key", run+"-"+strconv.FormatInt(i, 10))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 201 || rec.Header().Get("Idempotent-Replayed") != "" {
				return fmt.Errorf("status %d: %s", rec.Code, rec.Body)
			}
			return nil
		})
		b.StopTimer()
		e.checkClean()
	})
}

// benchWorld seeds a MariaDB world with benchMerchants merchants and returns
// one request body per merchant and the officer's Authorization header.
func benchWorld(b *testing.B) (*env, [][]byte, string) {
	e := newEnv(b, models.MySQL)
	w := e.seeded()
	bodies := make([][]byte, benchMerchants)
	for i := range bodies {
		m := e.newMerchant(w.Admin[0], w.Road[0], fmt.Sprintf("压测商户%03d", i))
		bodies[i], _ = json.Marshal(inspection(m, []int64{w.Photo[0]}, map[string]any{"rule_code": "HJWS-01", "points": 1, "note": "门前烟头"}))
	}
	return e, bodies, "Bearer " + w.Officer[0]
}

// BenchmarkRawMariaDB is the floor the inspection path is measured against:
// the same 32 clients, each operation one transaction that inserts one
// ledger-like row and updates one score row, on a table pair in a fresh
// database opened exactly as menqian opens it (same DSN options and pool).
func BenchmarkRawMariaDB(b *testing.B) {
	db := dbtest.Open(b, models.MySQL).SQL()
	for _, q := range []string{
		`CREATE TABLE raw_ledger (
		  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		  merchant_id BIGINT NOT NULL,
		  cycle CHAR(7) NOT NULL,
		  kind VARCHAR(16) NOT NULL,
		  points INT NOT NULL,
		  rule_code VARCHAR(32) NOT NULL,
		  author_id BIGINT NOT NULL,
		  note VARCHAR(500) NOT NULL DEFAULT '',
		  occurred_at DATETIME(3) NOT NULL,
		  created_at DATETIME(3) NOT NULL,
		  KEY idx_raw_ledger_merchant_cycle (merchant_id, cycle)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
		`CREATE TABLE raw_scores (
		  merchant_id BIGINT NOT NULL,
		  cycle CHAR(7) NOT NULL,
		  deductions INT NOT NULL DEFAULT 0,
		  score INT NOT NULL,
		  entries INT NOT NULL DEFAULT 0,
		  updated_at DATETIME(3) NOT NULL,
		  PRIMARY KEY (merchant_id, cycle)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	for m := 1; m <= benchMerchants; m++ {
		if _, err := db.Exec("INSERT INTO raw_scores (merchant_id, cycle, score, updated_at) VALUES (?, '2026-11', 100, ?)", m, time.Now().UTC()); err != nil {
			b.Fatal(err)
		}
	}
	parallel(b, func(i int64) error {
		m := i%benchMerchants + 1
		now := time.Now().UTC()
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO raw_ledger (merchant_id, cycle, kind, points, rule_code, author_id, note, occurred_at, created_at)
			VALUES (?, '2026-11', 'deduction', -1, 'HJWS-01', 1, '门前烟头', ?, ?)`, m, now, now); err != nil {
			tx.Rollback()
			return err
		}
		if _, err := tx.Exec(`UPDATE raw_scores SET deductions = deductions + 1, score = score - 1, entries = entries + 1, updated_at = ?
			WHERE merchant_id = ? AND cycle = '2026-11'`, now, m); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}
