package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// exported drops the index and location built by Validate, so policies can be compared field by field.
func exported(p *Policy) Policy {
	q := *p
	q.loc, q.index = nil, nil
	return q
}

func TestDefaultCatalogue(t *testing.T) {
	p := Default()
	want := []struct {
		code, category, name string
		kind                 Kind
		points, lo, hi       int
		serious              bool
	}{
		{"HJWS-01", "包环境卫生", "门前垃圾、烟头、纸屑未及时清扫", Deduction, 2, 1, 3, false},
		{"HJWS-02", "包环境卫生", "垃圾外溢、乱倒污水", Deduction, 3, 2, 5, false},
		{"HJWS-03", "包环境卫生", "未落实垃圾分类", Deduction, 2, 1, 3, false},
		{"HJWS-04", "包环境卫生", "冬季门前积雪未及时清除", Deduction, 2, 1, 3, false},
		{"SRZJ-01", "包市容整洁", "乱贴乱画、张贴小广告", Deduction, 3, 2, 5, false},
		{"SRZJ-02", "包市容整洁", "乱拉乱挂、晾晒衣物", Deduction, 2, 1, 3, false},
		{"SRZJ-03", "包市容整洁", "店招店牌破损、不亮或违规设置", Deduction, 3, 2, 5, false},
		{"SRZJ-04", "包市容整洁", "空调外机、遮阳棚设置不规范", Deduction, 2, 1, 3, false},
		{"SSWH-01", "包设施完好", "损坏公共设施", Deduction, 5, 3, 8, false},
		{"SSWH-02", "包设施完好", "门前设施破损未报修", Deduction, 2, 1, 3, false},
		{"ZXLH-01", "包秩序良好", "店外经营、占道经营", Deduction, 5, 3, 8, false},
		{"ZXLH-02", "包秩序良好", "门前乱堆乱放", Deduction, 3, 2, 5, false},
		{"ZXLH-03", "包秩序良好", "门前非机动车乱停放未劝导", Deduction, 2, 1, 3, false},
		{"ZXLH-04", "包秩序良好", "高音喇叭招揽、噪音扰民", Deduction, 3, 2, 5, false},
		{"ZXLH-05", "包秩序良好", "拒不配合管理、拒不整改", Deduction, 10, 10, 20, true},
		{"LHMG-01", "包绿化美观", "损坏绿化、树上挂物", Deduction, 3, 2, 5, false},
		{"LHMG-02", "包绿化美观", "占用绿地堆放杂物", Deduction, 2, 1, 3, false},
		{"BONUS-01", "加分", "参与志愿服务", Bonus, 2, 1, 3, false},
		{"BONUS-02", "加分", "劝阻或举报不文明行为", Bonus, 2, 1, 3, false},
		{"BONUS-03", "加分", "主动清理公共区域 (扫雪、整理共享单车)", Bonus, 1, 1, 2, false},
		{"BONUS-04", "加分", "获评文明诚信商户等荣誉", Bonus, 5, 3, 5, false},
	}
	if got := len(p.Items); got != len(want) {
		t.Fatalf("len(Items) = %d, want %d", got, len(want))
	}
	for i, w := range want {
		got := p.Items[i]
		wantItem := Item{Code: w.code, Category: w.category, Name: w.name, Kind: w.kind,
			Points: w.points, MinPoints: w.lo, MaxPoints: w.hi, Serious: w.serious}
		if got != wantItem {
			t.Errorf("Items[%d] = %+v, want %+v", i, got, wantItem)
		}
		byCode, ok := p.Item(w.code)
		if !ok || byCode != wantItem {
			t.Errorf("Item(%q) = %+v, %v; want %+v, true", w.code, byCode, ok, wantItem)
		}
	}
	var serious []string
	for _, it := range p.Items {
		if it.Serious {
			serious = append(serious, it.Code)
		}
	}
	if got, want := strings.Join(serious, ","), "ZXLH-05"; got != want {
		t.Errorf("serious items = %s, want %s", got, want)
	}
	for _, code := range []string{"BONUS-01", "BONUS-02", "BONUS-03", "BONUS-04"} {
		if it, _ := p.Item(code); it.Kind != Bonus || it.Category != "加分" {
			t.Errorf("%s kind, category = %q, %q; want %q, 加分", code, it.Kind, it.Category, Bonus)
		}
	}
	wantCats := []string{"包环境卫生", "包市容整洁", "包设施完好", "包秩序良好", "包绿化美观", "加分"}
	if got := p.Categories(); !reflect.DeepEqual(got, wantCats) {
		t.Errorf("Categories() = %v, want %v", got, wantCats)
	}
}

func TestDefaultSettings(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	got := exported(p)
	got.Items = nil
	want := Policy{
		Timezone: "Asia/Shanghai", BaseScore: 100, MinScore: 0, MaxScore: 110, BonusCap: 10,
		StarThresholds: []int{95, 90, 85, 80, 75}, WatchBelow: 60, SeriousCapStar: 2,
		SeriousCapCycles: 3, GraceDays: 3, FutureSkew: Duration{5 * time.Minute},
		Demonstration:  Demonstration{MinMerchants: 10, MinAverageScore: 90, MinRatedStar: 4, MinRatedShare: 0.8, Target: 10},
		CaseReopenDays: 7, PublicHistoryMonths: 3, RepairMinCycles: 1, RepairDecisionDays: 10,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default() settings = %+v, want %+v", got, want)
	}
	if got := p.Location().String(); got != "Asia/Shanghai" {
		t.Errorf("Location() = %s, want Asia/Shanghai", got)
	}
	// Each call must be a fresh copy: one caller's edits must not leak into another's policy.
	p.Items[0].Points = 99
	p.StarThresholds[0] = 99
	if q := Default(); q.Items[0].Points != 2 || q.StarThresholds[0] != 95 {
		t.Errorf("Default() shares state between calls")
	}
}

func TestItemLookup(t *testing.T) {
	p := Default()
	tests := []struct {
		code     string
		wantCode string
		wantOK   bool
	}{
		{"ZXLH-05", "ZXLH-05", true},
		{"zxlh-05", "ZXLH-05", true},
		{" BONUS-04 ", "BONUS-04", true},
		{"ZXLH-06", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := p.Item(tt.code)
		if ok != tt.wantOK || got.Code != tt.wantCode {
			t.Errorf("Item(%q) = %q, %v; want %q, %v", tt.code, got.Code, ok, tt.wantCode, tt.wantOK)
		}
	}
	// Before Validate there is no index; lookups must still work.
	raw := &Policy{Items: defaultItems()}
	if got, ok := raw.Item("hjws-02"); !ok || got.Code != "HJWS-02" {
		t.Errorf("unvalidated Item(hjws-02) = %q, %v; want HJWS-02, true", got.Code, ok)
	}
}

func TestExampleFileIsTheDefault(t *testing.T) {
	p, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatalf("Load(example.yaml) = %v", err)
	}
	if got, want := exported(p), exported(Default()); !reflect.DeepEqual(got, want) {
		t.Errorf("example.yaml differs from Default():\n got %+v\nwant %+v", got, want)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	want := exported(Default())
	for _, format := range []string{"yaml", "json"} {
		var data []byte
		var err error
		if format == "yaml" {
			data, err = yaml.Marshal(Default())
		} else {
			data, err = json.Marshal(Default())
		}
		if err != nil {
			t.Fatalf("%s marshal: %v", format, err)
		}
		if !strings.Contains(string(data), "5m0s") {
			t.Errorf("%s output lacks future_skew as a duration string:\n%s", format, data)
		}
		p, err := Parse(data, format)
		if err != nil {
			t.Fatalf("Parse(marshalled %s) = %v", format, err)
		}
		if got := exported(p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s round trip = %+v, want %+v", format, got, want)
		}
	}
}

const customYAML = `
timezone: Asia/Urumqi
bonus_cap: 6
star_thresholds: [96, 91, 86, 81, 70]
future_skew: 90s
demonstration:
  target: 3
items:
  - code: WS-1
    category: 包卫生
    name: 门前脏乱
    kind: deduction
    points: 4
    min_points: 2
    max_points: 6
  - code: JF-1
    category: 加分
    name: 志愿服务
    kind: bonus
    points: 3
    min_points: 1
    max_points: 3
`

const customJSON = `{
  "timezone": "Asia/Urumqi",
  "bonus_cap": 6,
  "star_thresholds": [96, 91, 86, 81, 70],
  "future_skew": "90s",
  "demonstration": {"target": 3},
  "items": [
    {"code": "WS-1", "category": "包卫生", "name": "门前脏乱", "kind": "deduction", "points": 4, "min_points": 2, "max_points": 6},
    {"code": "JF-1", "category": "加分", "name": "志愿服务", "kind": "bonus", "points": 3, "min_points": 1, "max_points": 3}
  ]
}`

func TestParseCustom(t *testing.T) {
	want := exported(Default())
	want.Timezone = "Asia/Urumqi"
	want.BonusCap = 6
	want.StarThresholds = []int{96, 91, 86, 81, 70}
	want.FutureSkew = Duration{90 * time.Second}
	want.Demonstration.Target = 3 // the other demonstration fields keep their defaults
	want.Items = []Item{
		{Code: "WS-1", Category: "包卫生", Name: "门前脏乱", Kind: Deduction, Points: 4, MinPoints: 2, MaxPoints: 6},
		{Code: "JF-1", Category: "加分", Name: "志愿服务", Kind: Bonus, Points: 3, MinPoints: 1, MaxPoints: 3},
	}
	for _, tt := range []struct{ format, data string }{{"yaml", customYAML}, {"json", customJSON}} {
		p, err := Parse([]byte(tt.data), tt.format)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", tt.format, err)
		}
		if got := exported(p); !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%s) =\n %+v\nwant\n %+v", tt.format, got, want)
		}
		if _, ok := p.Item("HJWS-01"); ok {
			t.Errorf("Parse(%s): default items survived a file with its own items", tt.format)
		}
		if got := p.Location().String(); got != "Asia/Urumqi" {
			t.Errorf("Parse(%s).Location() = %s, want Asia/Urumqi", tt.format, got)
		}
	}
}

func TestParseKeepsDefaultItemsWithoutItemsKey(t *testing.T) {
	for _, tt := range []struct{ format, data string }{
		{"yaml", "grace_days: 5\n"},
		{"json", `{"grace_days": 5}`},
	} {
		p, err := Parse([]byte(tt.data), tt.format)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", tt.format, err)
		}
		if got, want := len(p.Items), 21; got != want {
			t.Errorf("Parse(%s): %d items, want %d", tt.format, got, want)
		}
		if got, want := p.GraceDays, 5; got != want {
			t.Errorf("Parse(%s): grace_days = %d, want %d", tt.format, got, want)
		}
		if got, want := p.StarThresholds, []int{95, 90, 85, 80, 75}; !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%s): star_thresholds = %v, want %v", tt.format, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	item := func(code string, lo, hi int) string {
		return `{"code": "` + code + `", "category": "包", "name": "n", "kind": "deduction", "points": ` +
			itoa(lo) + `, "min_points": ` + itoa(lo) + `, "max_points": ` + itoa(hi) + `}`
	}
	tests := []struct {
		name   string
		format string
		data   string
		want   []string // substrings the error must contain
	}{
		{"yaml unknown key", "yaml", "grace_day: 3\n", []string{"grace_day", "not found"}},
		{"yaml unknown item key", "yaml", "items:\n  - {code: A, category: c, name: n, kind: bonus, points: 1, min_points: 1, max_points: 1, colour: red}\n", []string{"colour"}},
		{"json unknown key", "json", `{"grace_day": 3}`, []string{"unknown field", "grace_day"}},
		{"json unknown nested key", "json", `{"demonstration": {"targets": 3}}`, []string{"unknown field", "targets"}},
		{"yaml overlapping codes", "yaml", "items:\n  - {code: HJWS-01, category: c, name: a, kind: deduction, points: 1, min_points: 1, max_points: 2}\n  - {code: hjws-01, category: c, name: b, kind: deduction, points: 1, min_points: 1, max_points: 2}\n", []string{`item "hjws-01"`, "overlaps", `"HJWS-01"`}},
		{"json duplicate codes", "json", `{"items": [` + item("A-1", 1, 2) + `, ` + item("A-1", 1, 2) + `]}`, []string{`item "A-1"`, "overlaps"}},
		{"yaml min above max", "yaml", "items:\n  - {code: A, category: c, name: n, kind: deduction, points: 5, min_points: 5, max_points: 3}\n", []string{`item "A"`, "min_points 5 is above max_points 3"}},
		{"json min above max", "json", `{"items": [` + item("B-2", 4, 2) + `]}`, []string{`item "B-2"`, "min_points 4 is above max_points 2"}},
		{"yaml thresholds out of order", "yaml", "star_thresholds: [95, 85, 90, 80, 75]\n", []string{"star_thresholds", "strictly descending"}},
		{"json thresholds out of order", "json", `{"star_thresholds": [95, 90, 90, 80, 75]}`, []string{"star_thresholds", "strictly descending"}},
		{"json four thresholds", "json", `{"star_thresholds": [95, 90, 85, 80]}`, []string{"star_thresholds", "got 4"}},
		{"yaml bad duration", "yaml", "future_skew: 5 minutes\n", []string{"line 1", "bad duration", "5 minutes"}},
		{"yaml duration without unit", "yaml", "future_skew: 300\n", []string{"bad duration", "300"}},
		{"json numeric duration", "json", `{"future_skew": 300}`, []string{"duration must be a string"}},
		{"yaml empty items", "yaml", "items: []\n", []string{"items is empty"}},
		{"yaml null items", "yaml", "items:\n", []string{"items is empty"}},
		{"json empty items", "json", `{"items": []}`, []string{"items is empty"}},
		{"yaml unknown timezone", "yaml", "timezone: Mars/Olympus\n", []string{"unknown timezone", "Mars/Olympus"}},
		{"yaml empty document", "yaml", "", []string{"empty"}},
		{"yaml two documents", "yaml", "grace_days: 1\n---\ngrace_days: 2\n", []string{"more than one document"}},
		{"yaml not a mapping", "yaml", "- 1\n- 2\n", []string{"parse policy yaml"}},
		{"json trailing data", "json", `{"grace_days": 1} {"grace_days": 2}`, []string{"parse policy json"}},
		{"json syntax", "json", `{"grace_days": }`, []string{"parse policy json"}},
		{"json wrong type", "json", `{"grace_days": "three"}`, []string{"grace_days"}},
		{"unknown format", "toml", "grace_days = 3", []string{"unknown policy format", "toml"}},
		{"several problems", "yaml", "grace_days: -1\nbonus_cap: -2\n", []string{"grace_days -1", "; ", "bonus_cap -2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.data), tt.format)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.data, p)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Policy)
		want   string // substring of the error; "" means valid
	}{
		{"default", func(p *Policy) {}, ""},
		{"empty timezone", func(p *Policy) { p.Timezone = "" }, "timezone"},
		{"local timezone", func(p *Policy) { p.Timezone = "Local" }, `"Local"`},
		{"unknown timezone", func(p *Policy) { p.Timezone = "Asia/Peking" }, `unknown timezone "Asia/Peking"`},
		{"no items", func(p *Policy) { p.Items = nil }, "items is empty"},
		{"empty code", func(p *Policy) { p.Items[3].Code = "" }, "items[3]: code is empty"},
		{"spaced code", func(p *Policy) { p.Items[3].Code = " HJWS-04" }, "surrounding spaces"},
		{"duplicate code", func(p *Policy) { p.Items[5].Code = "HJWS-01" }, `item "HJWS-01": code overlaps items[0]`},
		{"empty name", func(p *Policy) { p.Items[0].Name = " " }, `item "HJWS-01": name is empty`},
		{"empty category", func(p *Policy) { p.Items[0].Category = "" }, `item "HJWS-01": category is empty`},
		{"bad kind", func(p *Policy) { p.Items[0].Kind = "penalty" }, `kind "penalty"`},
		{"serious bonus", func(p *Policy) { p.Items[17].Serious = true }, `item "BONUS-01": a bonus item cannot be serious`},
		{"min below 1", func(p *Policy) { p.Items[0].MinPoints, p.Items[0].Points = 0, 0 }, "min_points 0 must be at least 1"},
		{"min above max", func(p *Policy) { p.Items[0].MinPoints = 4 }, "min_points 4 is above max_points 3"},
		{"points above range", func(p *Policy) { p.Items[0].Points = 4 }, "points 4 is outside min_points..max_points (1..3)"},
		{"points below range", func(p *Policy) { p.Items[14].Points = 9 }, `item "ZXLH-05": points 9 is outside`},
		{"thresholds equal", func(p *Policy) { p.StarThresholds = []int{95, 95, 85, 80, 75} }, "strictly descending"},
		{"thresholds ascending", func(p *Policy) { p.StarThresholds = []int{75, 80, 85, 90, 95} }, "strictly descending"},
		{"six thresholds", func(p *Policy) { p.StarThresholds = []int{99, 95, 90, 85, 80, 75} }, "must list 5 scores"},
		{"min score equals max", func(p *Policy) { p.MinScore, p.MaxScore = 100, 100 }, "min_score 100 must be below max_score 100"},
		{"base above max", func(p *Policy) { p.BaseScore = 111 }, "base_score 111 is outside"},
		{"base below min", func(p *Policy) { p.BaseScore = -1 }, "base_score -1 is outside"},
		{"negative bonus cap", func(p *Policy) { p.BonusCap = -1 }, "bonus_cap -1"},
		{"zero bonus cap", func(p *Policy) { p.BonusCap = 0 }, ""},
		{"negative grace", func(p *Policy) { p.GraceDays = -1 }, "grace_days -1"},
		{"zero grace", func(p *Policy) { p.GraceDays = 0 }, ""},
		{"negative skew", func(p *Policy) { p.FutureSkew = Duration{-time.Second} }, "future_skew -1s"},
		{"zero cap cycles", func(p *Policy) { p.SeriousCapCycles = 0 }, "serious_cap_cycles 0"},
		{"cap star 6", func(p *Policy) { p.SeriousCapStar = 6 }, "serious_cap_star 6 is outside 0..5"},
		{"cap star -1", func(p *Policy) { p.SeriousCapStar = -1 }, "serious_cap_star -1"},
		{"watch above max", func(p *Policy) { p.WatchBelow = 111 }, "watch_below 111"},
		{"share above 1", func(p *Policy) { p.Demonstration.MinRatedShare = 1.5 }, "demonstration.min_rated_share 1.5 is outside 0..1"},
		{"share negative", func(p *Policy) { p.Demonstration.MinRatedShare = -0.1 }, "demonstration.min_rated_share"},
		{"average above max", func(p *Policy) { p.Demonstration.MinAverageScore = 120 }, "demonstration.min_average_score 120"},
		{"rated star 6", func(p *Policy) { p.Demonstration.MinRatedStar = 6 }, "demonstration.min_rated_star 6"},
		{"no merchants", func(p *Policy) { p.Demonstration.MinMerchants = 0 }, "demonstration.min_merchants 0"},
		{"negative target", func(p *Policy) { p.Demonstration.Target = -1 }, "demonstration.target -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			tt.change(p)
			err := p.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate() = nil, want an error mentioning %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Validate() = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	yml := write("custom.yml", customYAML)
	js := write("custom.json", customJSON)
	bad := write("bad.yaml", "grace_days: -4\n")
	toml := write("policy.toml", "grace_days = 3\n")
	missing := filepath.Join(dir, "missing.yaml")

	for _, path := range []string{yml, js} {
		p, err := Load(path)
		if err != nil {
			t.Fatalf("Load(%s) = %v", path, err)
		}
		if got, want := p.BonusCap, 6; got != want {
			t.Errorf("Load(%s).BonusCap = %d, want %d", path, got, want)
		}
	}
	for _, tt := range []struct{ path, want string }{
		{bad, "grace_days -4"},
		{toml, "unknown extension"},
		{missing, "no such file"},
	} {
		_, err := Load(tt.path)
		if err == nil {
			t.Errorf("Load(%s) = nil error, want one", tt.path)
			continue
		}
		if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s) = %q, want it to name the file and mention %q", tt.path, err, tt.want)
		}
	}
}
