package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// TestConsoleNotices: the county's worklist lists open notices by deadline
// with the overdue ones marked and the merchants' "已整改" reports with their
// photos; the filters (state, road) and their counts are the service's;
// another county sees none of them.
func TestConsoleNotices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			seq := 7000
			issue := func(officer service.Actor, merchant int64, rule string, days int) int64 {
				t.Helper()
				seq++
				ph, err := e.svc.UploadPhoto(ctx, officer, bytes.NewReader(tinyPNG(seq)))
				if err != nil {
					t.Fatal(err)
				}
				n, err := e.svc.IssueNotice(ctx, officer, merchant, service.NoticeInput{RuleCode: rule, DueDays: &days, Photos: []int64{ph.ID}})
				if err != nil {
					t.Fatal(err)
				}
				return n.ID
			}
			road2, err := e.svc.CreateRoad(ctx, w.Admin[0], service.RoadInput{CountyID: &w.County[0], Name: ptr("人民路"), Town: ptr("公园街道")})
			if err != nil {
				t.Fatal(err)
			}
			shop3, err := e.svc.CreateMerchant(ctx, w.Admin[0], service.MerchantInput{RoadID: &road2.ID, Name: ptr("周记粮油"), USCC: ptr(uscc(60))})
			if err != nil {
				t.Fatal(err)
			}
			n1 := issue(w.Officer[0], w.Merchant[0], "SRZJ-01", 3) // due 18 Nov; the shop reports it fixed
			n2 := issue(w.Officer[0], w.Other[0], "ZXLH-02", 1)    // due 16 Nov: overdue by the 17th
			n3 := issue(w.Officer[0], w.Merchant[0], "HJWS-01", 2) // confirmed fixed
			n4 := issue(w.Officer[0], shop3.ID, "LHMG-02", 5)      // on the second road
			issue(w.Officer[1], w.Merchant[1], "HJWS-01", 1)       // the other county's
			if _, err := e.svc.RectifyNotice(ctx, w.Officer[0], n3, "复查已清扫"); err != nil {
				t.Fatal(err)
			}
			fix, err := e.svc.UploadPhoto(ctx, w.Shop[0], bytes.NewReader(tinyPNG(7777)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.ReportNoticeFixed(ctx, w.Shop[0], n1, "小广告已铲除", []int64{fix.ID}); err != nil {
				t.Fatal(err)
			}
			e.clock.Set(time.Date(2026, 11, 17, 2, 0, 0, 0, time.UTC))

			admin := e.signedIn(w.AdminName[0])
			ids := func(p page) []string {
				var out []string
				for _, r := range consoleTable(t, p.Body, "notices") {
					out = append(out, r.Key)
				}
				return out
			}
			key := func(ns ...int64) []string {
				out := make([]string, len(ns))
				for i, n := range ns {
					out[i] = fmt.Sprintf("notice-%d", n)
				}
				return out
			}
			for _, c := range []struct {
				query, status string
				road          int64
				want          []string
			}{
				{"", service.NoticesOpen, 0, key(n2, n1, n4)},
				{"?status=open", service.NoticesOpen, 0, key(n2, n1, n4)},
				{"?status=overdue", service.NoticesOverdue, 0, key(n2)},
				{"?status=rectified", service.NoticesRectified, 0, key(n3)},
				{fmt.Sprintf("?status=open&road=%d", road2.ID), service.NoticesOpen, road2.ID, key(n4)},
			} {
				p := admin.get("/console/notices" + c.query)
				if p.Status != http.StatusOK {
					t.Fatalf("%s: %d %s", c.query, p.Status, p.Body)
				}
				if got := ids(p); !slices.Equal(got, c.want) {
					t.Errorf("notices%s: %v, want %v", c.query, got, c.want)
				}
				_, total, err := e.svc.NoticeList(ctx, w.Admin[0], service.NoticeFilter{RoadID: c.road, Status: c.status})
				if err != nil {
					t.Fatal(err)
				}
				if got := between(p.Body, `id="notice-total">`, "<"); got != fmt.Sprint(total) {
					t.Errorf("notices%s: total %s, the service says %d", c.query, got, total)
				}
				hidden(t, "notices"+c.query, p, "张记烧烤淄川区")
			}
			if p := admin.get("/console/notices?status=all"); len(ids(p)) != 4 {
				t.Errorf("all notices: %v, want 4", ids(p))
			}

			p := admin.get("/console/notices")
			rows := map[string][]string{}
			for _, r := range consoleTable(t, p.Body, "notices") {
				rows[r.Key] = r.Cells
			}
			if r := rows[fmt.Sprintf("notice-%d", n2)]; !strings.Contains(r[4], "2026年11月16日") || !strings.Contains(r[4], "已逾期") ||
				!strings.Contains(p.Body, fmt.Sprintf(`<tr id="notice-%d" class="bad">`, n2)) {
				t.Errorf("the overdue notice is not marked: %v", r)
			}
			if r := rows[fmt.Sprintf("notice-%d", n1)]; strings.Contains(r[4], "已逾期") || !strings.Contains(r[5], "商户已报整改，待复查") ||
				!strings.Contains(r[6], "小广告已铲除") || r[2] != "乱贴乱画、张贴小广告" || r[1] != "柳泉路" {
				t.Errorf("the reported notice: %v", r)
			}
			if !strings.Contains(p.Body, fmt.Sprintf(`<img src="/photos/%d" alt="商户整改后的照片"`, fix.ID)) {
				t.Errorf("the merchant's photo of the fix is not shown")
			}
			if p := admin.get(fmt.Sprintf("/photos/%d", fix.ID)); p.Status != http.StatusOK {
				t.Errorf("the fix photo: %d", p.Status)
			}

			// The other county sees only its own; our road is not found there.
			other := e.signedIn(w.AdminName[1])
			p = other.get("/console/notices")
			if got := ids(p); len(got) != 1 {
				t.Errorf("the other county's worklist: %v, want its one notice", got)
			}
			hidden(t, "the other county's worklist", p, "张记烧烤张店区", "李家面馆张店区", "周记粮油")
			p = other.get(fmt.Sprintf("/console/notices?road=%d", road2.ID))
			if p.Status != http.StatusNotFound && p.Status != http.StatusForbidden {
				t.Errorf("another county's road: %d, want 404", p.Status)
			}
			hidden(t, "another county's road", p, "周记粮油")
		})
	}
}
