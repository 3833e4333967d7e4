package policy

import (
	"strings"
	"time"

	// The policy's timezone must load even on images without /usr/share/zoneinfo
	// (scratch, distroless), or every cycle boundary would silently fall back to UTC.
	_ "time/tzdata"
)

// Kind says whether a catalogue item takes points away or adds them.
type Kind string

// The two kinds of catalogue item.
const (
	Deduction Kind = "deduction"
	Bonus     Kind = "bonus"
)

// Item is one rule of the catalogue: an offence of a 包 or a bonus.
type Item struct {
	Code      string `json:"code" yaml:"code"`
	Category  string `json:"category" yaml:"category"` // the 包, e.g. 包环境卫生; bonus items use 加分
	Name      string `json:"name" yaml:"name"`
	Kind      Kind   `json:"kind" yaml:"kind"`
	Points    int    `json:"points" yaml:"points"` // default magnitude, always > 0
	MinPoints int    `json:"min_points" yaml:"min_points"`
	MaxPoints int    `json:"max_points" yaml:"max_points"`
	Serious   bool   `json:"serious" yaml:"serious"`
	// CaseHours is how long the county has to handle a citizen's report of
	// this item once dispatched (随手拍 cases); 0: DefaultCaseHours.
	CaseHours int `json:"case_hours,omitempty" yaml:"case_hours,omitempty"`
}

// Citizen-report case deadlines (see CaseHours).
const (
	DefaultCaseHours = 48
	MaxCaseHours     = 720 // 30 days
	MaxReopenDays    = 90
)

// MaxPublicHistoryMonths bounds public_history_months: three years, the
// longest any credit rule publishes a breach.
const MaxPublicHistoryMonths = 36

// Demonstration holds the thresholds a road must meet to qualify (达标) as a demonstration road.
type Demonstration struct {
	MinMerchants    int     `json:"min_merchants" yaml:"min_merchants"`
	MinAverageScore float64 `json:"min_average_score" yaml:"min_average_score"`
	MinRatedStar    int     `json:"min_rated_star" yaml:"min_rated_star"`
	MinRatedShare   float64 `json:"min_rated_share" yaml:"min_rated_share"`
	Target          int     `json:"target" yaml:"target"` // demonstration roads wanted per county
}

// Policy is a deployment's catalogue and scoring rules. Build one with
// Default, Parse or Load; a Policy changed by hand must pass Validate before use.
type Policy struct {
	Timezone         string        `json:"timezone" yaml:"timezone"`
	BaseScore        int           `json:"base_score" yaml:"base_score"`
	MinScore         int           `json:"min_score" yaml:"min_score"`
	MaxScore         int           `json:"max_score" yaml:"max_score"`
	BonusCap         int           `json:"bonus_cap" yaml:"bonus_cap"`
	StarThresholds   []int         `json:"star_thresholds" yaml:"star_thresholds"` // 5★ first, strictly descending
	WatchBelow       int           `json:"watch_below" yaml:"watch_below"`         // below it the merchant is 重点监管
	SeriousCapStar   int           `json:"serious_cap_star" yaml:"serious_cap_star"`
	SeriousCapCycles int           `json:"serious_cap_cycles" yaml:"serious_cap_cycles"` // the serious item's cycle counts as the first
	GraceDays        int           `json:"grace_days" yaml:"grace_days"`
	FutureSkew       Duration      `json:"future_skew" yaml:"future_skew"`
	Demonstration    Demonstration `json:"demonstration" yaml:"demonstration"`
	// CaseReopenDays is how long after a case closes its reporter may mark
	// it unresolved (回访), once.
	CaseReopenDays int `json:"case_reopen_days" yaml:"case_reopen_days"`
	// PublicHistoryMonths is how many months a deduction or bonus stays on
	// the shop's public plaque page (信用修复管理办法: a minor breach is
	// published for at most 3 months); 0 publishes none. The ledger and the
	// merchant's own pages keep every entry.
	PublicHistoryMonths int `json:"public_history_months" yaml:"public_history_months"`
	// RepairMinCycles is the minimum period before a merchant held down by a
	// serious-item cap may apply for credit repair (信用修复): that many
	// cycles, starting with the serious item's own, must have ended and left
	// their grace period, so that nothing can be recorded in them any more.
	RepairMinCycles int `json:"repair_min_cycles" yaml:"repair_min_cycles"`
	// RepairDecisionDays is how many working days (Monday to Friday) the
	// county office has to grant or refuse a repair application.
	RepairDecisionDays int    `json:"repair_decision_days" yaml:"repair_decision_days"`
	Items              []Item `json:"items" yaml:"items"`

	loc   *time.Location
	index map[string]int // normalized code → position in Items
}

// Default returns a fresh, validated copy of the design's default policy:
// the Shandong five 包 catalogue and the 100-point monthly score.
func Default() *Policy {
	p := defaultSettings()
	p.Items = defaultItems()
	if err := p.Validate(); err != nil {
		// The defaults are constants of this package; a failure is a programming error.
		panic("policy: invalid default policy: " + err.Error())
	}
	return p
}

func defaultSettings() *Policy {
	return &Policy{
		Timezone:           "Asia/Shanghai",
		BaseScore:          100,
		MinScore:           0,
		MaxScore:           110,
		BonusCap:           10,
		StarThresholds:     []int{95, 90, 85, 80, 75},
		WatchBelow:         60,
		SeriousCapStar:     2,
		SeriousCapCycles:   3,
		GraceDays:          3,
		FutureSkew:         Duration{5 * time.Minute},
		CaseReopenDays:     7,
		RepairMinCycles:    1,
		RepairDecisionDays: 10,
		// 信用修复管理办法 (NDRC order No. 36): minor breaches at most 3 months.
		PublicHistoryMonths: 3,
		Demonstration: Demonstration{
			MinMerchants:    10,
			MinAverageScore: 90,
			MinRatedStar:    4,
			MinRatedShare:   0.8,
			Target:          10,
		},
	}
}

func defaultItems() []Item {
	d := func(code, category, name string, points, lo, hi int) Item {
		return Item{Code: code, Category: category, Name: name, Kind: Deduction, Points: points, MinPoints: lo, MaxPoints: hi}
	}
	b := func(code, name string, points, lo, hi int) Item {
		return Item{Code: code, Category: "加分", Name: name, Kind: Bonus, Points: points, MinPoints: lo, MaxPoints: hi}
	}
	serious := d("ZXLH-05", "包秩序良好", "拒不配合管理、拒不整改", 10, 10, 20)
	serious.Serious = true
	return []Item{
		d("HJWS-01", "包环境卫生", "门前垃圾、烟头、纸屑未及时清扫", 2, 1, 3),
		d("HJWS-02", "包环境卫生", "垃圾外溢、乱倒污水", 3, 2, 5),
		d("HJWS-03", "包环境卫生", "未落实垃圾分类", 2, 1, 3),
		d("HJWS-04", "包环境卫生", "冬季门前积雪未及时清除", 2, 1, 3),
		d("SRZJ-01", "包市容整洁", "乱贴乱画、张贴小广告", 3, 2, 5),
		d("SRZJ-02", "包市容整洁", "乱拉乱挂、晾晒衣物", 2, 1, 3),
		d("SRZJ-03", "包市容整洁", "店招店牌破损、不亮或违规设置", 3, 2, 5),
		d("SRZJ-04", "包市容整洁", "空调外机、遮阳棚设置不规范", 2, 1, 3),
		d("SSWH-01", "包设施完好", "损坏公共设施", 5, 3, 8),
		d("SSWH-02", "包设施完好", "门前设施破损未报修", 2, 1, 3),
		d("ZXLH-01", "包秩序良好", "店外经营、占道经营", 5, 3, 8),
		d("ZXLH-02", "包秩序良好", "门前乱堆乱放", 3, 2, 5),
		d("ZXLH-03", "包秩序良好", "门前非机动车乱停放未劝导", 2, 1, 3),
		d("ZXLH-04", "包秩序良好", "高音喇叭招揽、噪音扰民", 3, 2, 5),
		serious,
		d("LHMG-01", "包绿化美观", "损坏绿化、树上挂物", 3, 2, 5),
		d("LHMG-02", "包绿化美观", "占用绿地堆放杂物", 2, 1, 3),
		b("BONUS-01", "参与志愿服务", 2, 1, 3),
		b("BONUS-02", "劝阻或举报不文明行为", 2, 1, 3),
		b("BONUS-03", "主动清理公共区域 (扫雪、整理共享单车)", 1, 1, 2),
		b("BONUS-04", "获评文明诚信商户等荣誉", 5, 3, 5),
	}
}

// normalizeCode makes "hjws-01 " and "HJWS-01" the same key, so that codes typed
// by officers or in policy files cannot name two different items.
func normalizeCode(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}

// Item returns the catalogue item with the given code, ignoring case and
// surrounding spaces.
func (p *Policy) Item(code string) (Item, bool) {
	key := normalizeCode(code)
	if p.index != nil {
		i, ok := p.index[key]
		if !ok {
			return Item{}, false
		}
		return p.Items[i], true
	}
	for _, it := range p.Items {
		if normalizeCode(it.Code) == key {
			return it, true
		}
	}
	return Item{}, false
}

// CaseHours is the case deadline of a report of code, in hours: the item's
// case_hours, else DefaultCaseHours (also for 其他 and unknown codes).
func (p *Policy) CaseHours(code string) int {
	if it, ok := p.Item(code); ok && it.CaseHours > 0 {
		return it.CaseHours
	}
	return DefaultCaseHours
}

// Categories returns the distinct item categories (the 包, then 加分) in catalogue order.
func (p *Policy) Categories() []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range p.Items {
		if !seen[it.Category] {
			seen[it.Category] = true
			out = append(out, it.Category)
		}
	}
	return out
}

// Location returns the policy's timezone. On a policy that was never
// validated it loads the zone afresh, and falls back to UTC if the name is bad.
func (p *Policy) Location() *time.Location {
	if p.loc != nil {
		return p.loc
	}
	if loc, err := loadLocation(p.Timezone); err == nil {
		return loc
	}
	return time.UTC
}
