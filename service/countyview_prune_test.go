package service

import (
	"context"
	"fmt"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestCountyViewBehindPrunedLog: a view further behind than the pruned change
// log is rebuilt (not refreshed from a log missing changes), shows every
// change, and the pruned log still checks clean.
func TestCountyViewBehindPrunedLog(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newBatchWorld(t, d)
			ctx := context.Background()
			county := w.officer.CountyID
			name := func(id int64) string {
				t.Helper()
				cv, err := w.s.countyView(ctx, county, w.cycle)
				if err != nil {
					t.Fatal(err)
				}
				i, ok := cv.at[id]
				if !ok {
					t.Fatalf("shop %d not in the view", id)
				}
				return cv.merchants[i].Name
			}
			name(w.open)
			admin := Actor{UserID: 1, Username: "admin", Role: RoleCityAdmin}
			for i := range 3 {
				n := fmt.Sprintf("烧烤店%d", i)
				if _, err := w.s.UpdateMerchant(ctx, admin, w.open, MerchantInput{Name: &n}); err != nil {
					t.Fatal(err)
				}
			}
			n, err := w.s.db.PruneCountyChanges(ctx, 1)
			if err != nil || n == 0 {
				t.Fatalf("pruned %d changes, err %v; want some", n, err)
			}
			builds := w.s.views.builds.Load()
			if got := name(w.open); got != "烧烤店2" {
				t.Errorf("after the log was pruned past the view: name %q, want 烧烤店2", got)
			}
			if w.s.views.builds.Load() != builds+1 {
				t.Errorf("the view behind the pruned log was not rebuilt (builds %d → %d)", builds, w.s.views.builds.Load())
			}
			if problems, err := w.s.CheckViews(ctx); err != nil || len(problems) > 0 {
				t.Errorf("check after pruning: %v %v", problems, err)
			}
			// Within the kept log, a change is applied incrementally.
			refreshes := w.s.views.refreshes.Load()
			last := "烧烤店3"
			if _, err := w.s.UpdateMerchant(ctx, admin, w.open, MerchantInput{Name: &last}); err != nil {
				t.Fatal(err)
			}
			if got := name(w.open); got != last || w.s.views.refreshes.Load() != refreshes+1 {
				t.Errorf("name %q after a refresh (refreshes %d → %d), want %q by one refresh", got, refreshes, w.s.views.refreshes.Load(), last)
			}
		})
	}
}
