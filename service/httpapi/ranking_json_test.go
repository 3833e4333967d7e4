package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
)

// boardJSON is the contract's shape of a leaderboard page, encoded by
// encoding/json as the yardstick of appendBoard.
type boardJSON struct {
	Items  []boardItemJSON `json:"items"`
	Total  int             `json:"total"`
	Limit  int             `json:"limit"`
	Offset int             `json:"offset"`
	Cycle  string          `json:"cycle"`
}

// boardItemJSON is one merchant of a boardJSON.
type boardItemJSON struct {
	Rank       int    `json:"rank"`
	MerchantID int64  `json:"merchant_id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	Score      int    `json:"score"`
	RatedStar  int    `json:"rated_star"`
}

// BoardJSON is boardJSON for the package's external tests.
type BoardJSON = boardJSON

func TestAppendBoardMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	names := []string{"", "张记烧烤", "plain", `quote " and \ back`, "tab\tnew\nline\r\x00\x1f\x7f", "<b>&amp;</b>",
		"line\u2028para\u2029", "bad \xff\xfe utf8", "cut \xe2\x80", "emoji 🍜", "\xe2\x80\xa8"}
	for _, name := range names {
		for _, items := range []int{0, 1, 3} {
			p := service.BoardPage{Total: 2001, Limit: 20, Offset: 40, Cycle: "2026-11"}
			var want boardJSON
			want.Items = make([]boardItemJSON, items)
			for i := range items {
				e := leaderboard.Entry{Rank: 41 + i, MerchantID: int64(9_000_000_000 + i), Code: "K7M2" + name, Name: name, Score: 110 - 7*i}
				p.Items = append(p.Items, service.RankedMerchant{Entry: e, RatedStar: i})
				w := &want.Items[i]
				w.Rank, w.MerchantID, w.Code, w.Name, w.Score, w.RatedStar = e.Rank, e.MerchantID, e.Code, e.Name, e.Score, i
			}
			want.Total, want.Limit, want.Offset, want.Cycle = p.Total, p.Limit, p.Offset, p.Cycle
			wantJSON, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendBoard(nil, p); string(got) != string(wantJSON) {
				t.Errorf("name %q, %d items:\ngot  %s\nwant %s", name, items, got, wantJSON)
			}
		}
	}
}
