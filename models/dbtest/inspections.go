package dbtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
)

// Inspections stores n inspections by officer of shops in turn, in cycles
// in turn, the first deducting of them each with one deduction of rule at
// points, straight into the tables (one statement each). It is for tests
// of reports that read inspections and the ledger (the fairness report):
// no score row moves, so `menqian check` would not agree.
func Inspections(t testing.TB, db *models.DB, officer int64, shops []int64, cycles []string, n, deducting int, rule string, points int) {
	t.Helper()
	ctx := context.Background()
	rows := make([]models.Inspection, n)
	for i := range rows {
		c := cycles[i%len(cycles)]
		start, err := time.Parse("2006-01", c)
		if err != nil {
			t.Fatal(err)
		}
		at := start.Add(time.Duration(24+i) * time.Hour)
		rows[i] = models.Inspection{MerchantID: shops[i%len(shops)], OfficerID: officer, Cycle: c, InspectedAt: at,
			IdempotencyKey: fmt.Sprintf("seeded-%d", i), RequestHash: fmt.Sprintf("%064d", i), Response: "{}", CreatedAt: at}
		if i < deducting {
			rows[i].Delta = -points
		}
	}
	if err := db.CreateInspections(ctx, rows); err != nil {
		t.Fatal(err)
	}
	entries := make([]models.LedgerEntry, deducting)
	for i := range entries {
		in := rows[i]
		entries[i] = models.LedgerEntry{MerchantID: in.MerchantID, Cycle: in.Cycle, Kind: models.KindDeduction, CountsAs: models.KindDeduction,
			Points: -points, RuleCode: rule, InspectionID: &rows[i].ID, AuthorID: officer, OccurredAt: in.InspectedAt, CreatedAt: in.InspectedAt}
	}
	if len(entries) > 0 {
		if err := db.AppendLedger(ctx, entries); err != nil {
			t.Fatal(err)
		}
	}
}
