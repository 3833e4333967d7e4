package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// starCount is the number of stars a merchant can earn; the thresholds give one score per star.
const starCount = 5

func loadLocation(name string) (*time.Location, error) {
	// "" and "Local" would make cycle boundaries depend on the host's clock
	// settings, so two replicas could disagree about which month a record is in.
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("timezone %q is not an IANA zone name like Asia/Shanghai", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown timezone %q", name)
	}
	return loc, nil
}

// Validate checks every setting and item and, when all is well, prepares the
// timezone and code index. It reports every problem found, joined with "; ".
func (p *Policy) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	loc, err := loadLocation(p.Timezone)
	if err != nil {
		bad("timezone: %v", err)
	}

	if p.MinScore >= p.MaxScore {
		bad("min_score %d must be below max_score %d", p.MinScore, p.MaxScore)
	}
	if p.BaseScore < p.MinScore || p.BaseScore > p.MaxScore {
		bad("base_score %d is outside min_score..max_score (%d..%d)", p.BaseScore, p.MinScore, p.MaxScore)
	}
	if p.BonusCap < 0 {
		bad("bonus_cap %d must not be negative", p.BonusCap)
	}
	if len(p.StarThresholds) != starCount {
		bad("star_thresholds must list %d scores (5★ first), got %d", starCount, len(p.StarThresholds))
	}
	for i := 1; i < len(p.StarThresholds); i++ {
		if p.StarThresholds[i] >= p.StarThresholds[i-1] {
			bad("star_thresholds must be strictly descending: %v", p.StarThresholds)
			break
		}
	}
	if p.WatchBelow < p.MinScore || p.WatchBelow > p.MaxScore {
		bad("watch_below %d is outside min_score..max_score (%d..%d)", p.WatchBelow, p.MinScore, p.MaxScore)
	}
	if p.SeriousCapStar < 0 || p.SeriousCapStar > starCount {
		bad("serious_cap_star %d is outside 0..%d", p.SeriousCapStar, starCount)
	}
	if p.SeriousCapCycles < 1 {
		bad("serious_cap_cycles %d must be at least 1", p.SeriousCapCycles)
	}
	if p.GraceDays < 0 {
		bad("grace_days %d must not be negative", p.GraceDays)
	}
	if p.FutureSkew.Duration < 0 {
		bad("future_skew %s must not be negative", p.FutureSkew)
	}

	if p.CaseReopenDays < 1 || p.CaseReopenDays > MaxReopenDays {
		bad("case_reopen_days %d is outside 1..%d", p.CaseReopenDays, MaxReopenDays)
	}
	if p.PublicHistoryMonths < 0 || p.PublicHistoryMonths > MaxPublicHistoryMonths {
		bad("public_history_months %d is outside 0..%d", p.PublicHistoryMonths, MaxPublicHistoryMonths)
	}

	if p.RepairMinCycles < 1 || p.RepairMinCycles > max(1, p.SeriousCapCycles-1) {
		bad("repair_min_cycles %d is outside 1..%d (a repair must come before the cap ends)", p.RepairMinCycles, max(1, p.SeriousCapCycles-1))
	}
	if p.RepairDecisionDays < 1 || p.RepairDecisionDays > MaxRepairDecisionDays {
		bad("repair_decision_days %d is outside 1..%d", p.RepairDecisionDays, MaxRepairDecisionDays)
	}

	d := p.Demonstration
	if d.MinMerchants < 1 {
		bad("demonstration.min_merchants %d must be at least 1", d.MinMerchants)
	}
	// The negated comparisons also reject NaN, which YAML can spell as .nan.
	if !(d.MinAverageScore >= float64(p.MinScore) && d.MinAverageScore <= float64(p.MaxScore)) {
		bad("demonstration.min_average_score %v is outside min_score..max_score (%d..%d)", d.MinAverageScore, p.MinScore, p.MaxScore)
	}
	if d.MinRatedStar < 0 || d.MinRatedStar > starCount {
		bad("demonstration.min_rated_star %d is outside 0..%d", d.MinRatedStar, starCount)
	}
	if !(d.MinRatedShare >= 0 && d.MinRatedShare <= 1) {
		bad("demonstration.min_rated_share %v is outside 0..1", d.MinRatedShare)
	}
	if d.Target < 0 {
		bad("demonstration.target %d must not be negative", d.Target)
	}

	if len(p.Items) == 0 {
		bad("items is empty: the catalogue needs at least one item")
	}
	index := make(map[string]int, len(p.Items))
	for i, it := range p.Items {
		name := fmt.Sprintf("items[%d]", i)
		if it.Code != "" {
			name = fmt.Sprintf("item %q", it.Code)
		}
		key := normalizeCode(it.Code)
		switch {
		case key == "":
			bad("items[%d]: code is empty", i)
		case strings.TrimSpace(it.Code) != it.Code:
			bad("%s: code has surrounding spaces", name)
		}
		if key != "" {
			if j, dup := index[key]; dup {
				bad("%s: code overlaps items[%d] %q (codes are compared ignoring case)", name, j, p.Items[j].Code)
			} else {
				index[key] = i
			}
		}
		if strings.TrimSpace(it.Name) == "" {
			bad("%s: name is empty", name)
		}
		if strings.TrimSpace(it.Category) == "" {
			bad("%s: category is empty", name)
		}
		if it.Kind != Deduction && it.Kind != Bonus {
			bad("%s: kind %q must be %q or %q", name, it.Kind, Deduction, Bonus)
		}
		if it.Serious && it.Kind == Bonus {
			bad("%s: a bonus item cannot be serious", name)
		}
		if it.MinPoints < 1 {
			bad("%s: min_points %d must be at least 1", name, it.MinPoints)
		}
		if it.MinPoints > it.MaxPoints {
			bad("%s: min_points %d is above max_points %d", name, it.MinPoints, it.MaxPoints)
		} else if it.Points < it.MinPoints || it.Points > it.MaxPoints {
			bad("%s: points %d is outside min_points..max_points (%d..%d)", name, it.Points, it.MinPoints, it.MaxPoints)
		}
		switch {
		case it.CaseHours < 0 || it.CaseHours > MaxCaseHours:
			bad("%s: case_hours %d is outside 1..%d (leave it out for %d)", name, it.CaseHours, MaxCaseHours, DefaultCaseHours)
		case it.CaseHours != 0 && it.Kind == Bonus:
			bad("%s: a bonus item is not reported, so it has no case_hours", name)
		}
	}

	if len(problems) > 0 {
		return errors.New("invalid policy: " + strings.Join(problems, "; "))
	}
	p.loc = loc
	p.index = index
	return nil
}
