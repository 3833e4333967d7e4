package policy

import (
	"strings"
	"testing"
)

// TestCaseDeadlines: an item's case_hours is read from the file, absent means
// 48 h (also for 其他), and out-of-range values and reopen windows are refused.
func TestCaseDeadlines(t *testing.T) {
	p, err := Parse([]byte(`
case_reopen_days: 3
items:
  - {code: A-01, category: 包环境卫生, name: 垃圾, kind: deduction, points: 2, min_points: 1, max_points: 3, case_hours: 24}
  - {code: A-02, category: 包环境卫生, name: 污水, kind: deduction, points: 2, min_points: 1, max_points: 3}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		code string
		want int
	}{{"A-01", 24}, {"a-01 ", 24}, {"A-02", DefaultCaseHours}, {"OTHER", DefaultCaseHours}} {
		if got := p.CaseHours(tt.code); got != tt.want {
			t.Errorf("CaseHours(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
	if p.CaseReopenDays != 3 {
		t.Errorf("CaseReopenDays = %d, want 3", p.CaseReopenDays)
	}
	if d := Default(); d.CaseReopenDays != 7 || d.CaseHours("HJWS-01") != 48 {
		t.Errorf("defaults: reopen %d days, HJWS-01 %d h; want 7 and 48", d.CaseReopenDays, d.CaseHours("HJWS-01"))
	}

	for _, tt := range []struct {
		name   string
		change func(p *Policy)
		want   string
	}{
		{"hours 720", func(p *Policy) { p.Items[0].CaseHours = MaxCaseHours }, ""},
		{"hours 721", func(p *Policy) { p.Items[0].CaseHours = 721 }, `item "HJWS-01": case_hours 721 is outside 1..720`},
		{"hours negative", func(p *Policy) { p.Items[0].CaseHours = -1 }, "case_hours -1"},
		{"bonus hours", func(p *Policy) { p.Items[17].CaseHours = 24 }, `item "BONUS-01": a bonus item is not reported`},
		{"reopen 0", func(p *Policy) { p.CaseReopenDays = 0 }, "case_reopen_days 0 is outside 1..90"},
		{"reopen 91", func(p *Policy) { p.CaseReopenDays = 91 }, "case_reopen_days 91"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			tt.change(p)
			err := p.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
