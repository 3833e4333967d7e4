package service

import (
	"context"
	"time"

	"github.com/menqian/menqian/service/policy"
)

// Sizes of the monthly 红黑榜.
const (
	RedListSize = 10 // the best merchants without any deduction
	BottomSize  = 5  // the lowest-ranked merchants below the base score join the black list
)

// Black-list reasons.
const (
	ReasonSerious = "serious_item" // 严重违规
	ReasonWatch   = "under_watch"  // 低于重点监管线
	ReasonBottom  = "bottom_rank"  // 排名末位
)

// BulletinMerchant is one merchant line of a bulletin.
type BulletinMerchant struct {
	Rank       int      `json:"rank"`
	MerchantID int64    `json:"merchant_id"`
	Code       string   `json:"code"`
	Name       string   `json:"name"`
	Road       string   `json:"road"`
	Score      int      `json:"score"`
	RatedStar  int      `json:"rated_star"`
	Deductions int      `json:"deductions"`
	Bonuses    int      `json:"bonuses"`
	Serious    int      `json:"serious"`
	Reasons    []string `json:"reasons,omitempty"`
}

// BulletinRoad is one road line of a bulletin.
type BulletinRoad struct {
	Rank          int         `json:"rank"`
	RoadID        int64       `json:"road_id"`
	Name          string      `json:"name"`
	Score         float64     `json:"score"`
	Merchants     int         `json:"merchants"`
	Demonstration string      `json:"demonstration"`
	Qualified     bool        `json:"qualified"`
	Failing       []string    `json:"failing"`
	Metrics       RoadMetrics `json:"metrics"`
}

// Bulletin is a county's monthly 通报 (红黑榜): deterministic, so a closed
// cycle's bulletin is byte-identical however often it is fetched.
type Bulletin struct {
	CountyID      int64              `json:"county_id"`
	County        string             `json:"county"`
	Cycle         string             `json:"cycle"`
	Provisional   bool               `json:"provisional"`
	ClosedAt      *time.Time         `json:"closed_at"`
	Merchants     int                `json:"merchants"`
	Red           []BulletinMerchant `json:"red"`
	Black         []BulletinMerchant `json:"black"`
	Roads         []BulletinRoad     `json:"roads"`
	Demonstration struct {
		Target     int `json:"target"`
		Designated int `json:"designated"`
		Accepted   int `json:"accepted"`
		Qualified  int `json:"qualified"`
	} `json:"demonstration"`
}

// CountyBulletin builds the bulletin of a county's cycle (county users).
func (s *Service) CountyBulletin(ctx context.Context, a Actor, countyID int64, cycle string) (Bulletin, error) {
	county, err := s.countyForReport(ctx, a, countyID)
	if err != nil {
		return Bulletin{}, err
	}
	c, err := policy.ParseCycle(cycle)
	if err != nil {
		return Bulletin{}, Invalid(map[string]string{"cycle": "格式应为 YYYY-MM"})
	}
	cc, cv, err := s.countyCycleView(ctx, county, c)
	if err != nil {
		return Bulletin{}, err
	}
	// The bulletin of a view, or of a closed cycle, is built once and shared:
	// its lists are read only.
	key := frozenKey{county.ID, cc.Cycle}
	if cv != nil {
		if b := cv.bulletin.Load(); b != nil {
			return *b, nil
		}
	} else if b, ok := s.frozen.bulletins.Load(key); ok {
		return b.(Bulletin), nil
	}
	b := s.buildBulletin(cc)
	if cv != nil {
		cv.bulletin.Store(&b)
	} else if _, ok := s.frozen.cycles.Load(key); ok {
		s.frozen.bulletins.Store(key, b)
	}
	return b, nil
}

// buildBulletin builds the bulletin of a county cycle.
func (s *Service) buildBulletin(cc CountyCycle) Bulletin {
	county := cc.County // as it was at closing, for a closed cycle
	b := Bulletin{CountyID: county.ID, County: county.Name, Cycle: cc.Cycle, Provisional: cc.Provisional, ClosedAt: cc.ClosedAt,
		Merchants: len(cc.Merchants), Red: []BulletinMerchant{}, Black: []BulletinMerchant{}, Roads: []BulletinRoad{}}
	ranked := make([]BulletinMerchant, len(cc.Merchants))
	for i, m := range cc.Merchants {
		rank := i + 1
		if i > 0 && m.Score == cc.Merchants[i-1].Score {
			rank = ranked[i-1].Rank
		}
		ranked[i] = BulletinMerchant{Rank: rank, MerchantID: m.MerchantID, Code: m.Code, Name: m.Name, Road: m.RoadName,
			Score: m.Score, RatedStar: m.RatedStar, Deductions: m.Deductions, Bonuses: m.Bonuses, Serious: m.Serious}
	}
	for _, m := range ranked {
		if len(b.Red) == RedListSize {
			break
		}
		if m.Deductions == 0 && m.Serious == 0 {
			b.Red = append(b.Red, m)
		}
	}
	bottomFrom := len(ranked) - BottomSize
	for i, m := range ranked {
		var why []string
		if m.Serious > 0 {
			why = append(why, ReasonSerious)
		}
		if s.policy.UnderWatch(m.Score) {
			why = append(why, ReasonWatch)
		}
		if i >= bottomFrom && m.Score < s.policy.BaseScore {
			why = append(why, ReasonBottom)
		}
		if len(why) > 0 {
			m.Reasons = why
			b.Black = append(b.Black, m)
		}
	}
	for _, r := range cc.Roads {
		b.Roads = append(b.Roads, BulletinRoad{Rank: r.Rank, RoadID: r.RoadID, Name: r.Name, Score: float64(r.ScoreCents) / 100,
			Merchants: r.Merchants, Demonstration: r.DemoStatus, Qualified: r.Qualified, Failing: r.Failing, Metrics: r.Metrics})
	}
	d := demonstrationOf(county, cc.Cycle, cc.Roads)
	b.Demonstration.Target, b.Demonstration.Designated, b.Demonstration.Accepted, b.Demonstration.Qualified =
		d.Target, d.Designated, d.Accepted, d.Qualified
	return b
}
