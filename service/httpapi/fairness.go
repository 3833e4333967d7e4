package httpapi

import (
	"fmt"
	"math"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/shrinkage"
)

// fairnessEstimate is one rate of an officer or road.
type fairnessEstimate struct {
	Trials   float64  `json:"trials"`
	Raw      float64  `json:"raw"`
	Estimate float64  `json:"estimate"`
	Low      float64  `json:"low"`
	High     float64  `json:"high"`
	PeerMean *float64 `json:"peer_mean"` // null: no peer has trials
	Flag     string   `json:"flag"`      // "high", "low" or ""
}

// fairnessLine is an officer or road of the report.
type fairnessLine struct {
	ID              int64                       `json:"id"`
	Name            string                      `json:"name"`
	Inspections     int                         `json:"inspections"`
	Deductions      int                         `json:"deductions"`
	Points          int                         `json:"points"`
	Serious         int                         `json:"serious"`
	Bonuses         int                         `json:"bonuses"`
	Appealed        int                         `json:"appealed"`
	Reversed        int                         `json:"reversed"`
	Notices         int                         `json:"notices"`
	NoticesDeducted int                         `json:"notices_deducted"`
	Flagged         bool                        `json:"flagged"`
	Rates           map[string]fairnessEstimate `json:"rates"`
	// AuditAgreement compares an officer with the random audits of the
	// range; null for roads and for officers no audited shop compares.
	AuditAgreement *officerAgreement `json:"audit_agreement"`
}

// fairnessPrior is a county prior of one rate.
type fairnessPrior struct {
	Mean     float64 `json:"mean"`
	Strength float64 `json:"strength"`
	// Fitted is the strength the moments gave before the floor and
	// ceiling; null when the units vary no more than chance.
	Fitted     *float64 `json:"fitted_strength"`
	Degenerate bool     `json:"degenerate"`
}

type fairnessGroup struct {
	Items  []fairnessLine           `json:"items"`
	Priors map[string]fairnessPrior `json:"priors"`
}

type fairnessMetric struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Of      string `json:"of"`
	Model   string `json:"model"`
	Percent bool   `json:"percent"`
}

// fairnessBody is the report as JSON.
type fairnessBody struct {
	CountyID    int64            `json:"county_id"`
	County      string           `json:"county"`
	From        string           `json:"from"`
	To          string           `json:"to"`
	Level       float64          `json:"level"`
	MinStrength float64          `json:"min_strength"`
	Metrics     []fairnessMetric `json:"metrics"`
	Officers    fairnessGroup    `json:"officers"`
	Roads       fairnessGroup    `json:"roads"`
}

func fairnessBodyOf(r service.FairnessReport) fairnessBody {
	b := fairnessBody{CountyID: r.County.ID, County: r.County.Name, From: r.From, To: r.To, Level: shrinkage.Level,
		MinStrength: service.FairnessMinStrength, Officers: fairnessGroupOf(r.Officers), Roads: fairnessGroupOf(r.Roads)}
	for _, m := range service.FairnessMetrics {
		b.Metrics = append(b.Metrics, fairnessMetric{Key: m.Key, Name: m.Name, Of: m.Of, Model: m.Model, Percent: m.Percent})
	}
	return b
}

func fairnessGroupOf(g service.FairnessGroup) fairnessGroup {
	out := fairnessGroup{Items: make([]fairnessLine, len(g.Lines)), Priors: map[string]fairnessPrior{}}
	for i, pr := range g.Priors {
		p := fairnessPrior{Mean: pr.Mean, Strength: pr.Strength, Degenerate: pr.Degenerate}
		if !math.IsInf(pr.Fitted, 0) {
			p.Fitted = &pr.Fitted
		}
		out.Priors[service.FairnessMetrics[i].Key] = p
	}
	for i, l := range g.Lines {
		fl := fairnessLine{ID: l.ID, Name: l.Name, Inspections: l.Inspections, Deductions: l.Deductions, Points: l.Points,
			Serious: l.Serious, Bonuses: l.Bonuses, Appealed: l.Appealed, Reversed: l.Reversed, Notices: l.Notices,
			NoticesDeducted: l.NoticesDeducted, Flagged: l.Flagged, Rates: map[string]fairnessEstimate{}}
		if ag := l.Agreement; ag != nil {
			fl.AuditAgreement = &officerAgreement{OfficerID: ag.OfficerID, Officer: ag.Officer, Shops: ag.Shops, ItemPairs: ag.ItemPairs,
				Agreed: ag.Agreed, OfficerOnly: ag.OfficerOnly, AuditorOnly: ag.AuditorOnly, Agreement: ag.Agreement, Kappa: ag.Kappa,
				OfficerPoints: ag.OfficerPoints, AuditorPoints: ag.AuditorPoints, PointsDiff: ag.PointsDiff}
		}
		for m, e := range l.Rates {
			fe := fairnessEstimate{Trials: e.Trials, Raw: e.Raw, Estimate: e.Mean, Low: e.Lo, High: e.Hi, Flag: flagName(e.Flag)}
			if e.HasPeers {
				fe.PeerMean = &e.Peer
			}
			fl.Rates[service.FairnessMetrics[m].Key] = fe
		}
		out.Items[i] = fl
	}
	return out
}

func flagName(f int) string {
	switch {
	case f > 0:
		return "high"
	case f < 0:
		return "low"
	}
	return ""
}

// fairnessFlagNames say which way a rate stands out, in the downloads.
var fairnessFlagNames = map[string]string{"high": "偏高", "low": "偏低"}

// fairness serves a county's enforcement-fairness report over ?from=..&to=
// (cycles) as JSON, CSV or XLSX (?format=), for its county admin and the city admin.
func (a *API) fairness(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	format, ok := a.tablesFormat(c)
	if !ok {
		return
	}
	r, err := a.svc.FairnessReport(c.Request.Context(), actor(c), id, c.Query("from"), c.Query("to"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	b := fairnessBodyOf(r)
	a.sendTables(c, format, fmt.Sprintf("fairness-%s-%s-%s", b.County, b.From, b.To), b, func() []sheet { return fairnessSheets(b) })
}

// fairnessSheets lays the report out as the tables of its downloads: what
// it is and the county priors, then one table of officers and one of roads.
func fairnessSheets(b fairnessBody) []sheet {
	info := sheet{Name: "说明", Header: []string{"项目", "内容"}, Rows: [][]any{
		{"区县", b.County}, {"统计月份", b.From + " 至 " + b.To},
		{"方法", fmt.Sprintf("经验贝叶斯收缩：各比率向全区县均值收缩，先验强度至少相当于 %.0f 个样本；区间为 %.0f%% 后验区间；区间不含同行均值（全区县除本人或本路外）时标记偏高或偏低", b.MinStrength, b.Level*100)},
	}}
	priors := sheet{Name: "全区县先验", Header: []string{"指标", "统计对象", "模型", "巡查员均值", "巡查员先验强度", "道路均值", "道路先验强度"}}
	for _, m := range b.Metrics {
		o, r := b.Officers.Priors[m.Key], b.Roads.Priors[m.Key]
		priors.Rows = append(priors.Rows, []any{m.Name, m.Of, m.Model, o.Mean, o.Strength, r.Mean, r.Strength})
	}
	return []sheet{info, priors, fairnessUnitSheet("巡查员", b.Metrics, b.Officers, true), fairnessUnitSheet("道路", b.Metrics, b.Roads, false)}
}

// fairnessUnitSheet is the table of officers or roads: counts, each rate's
// raw value, estimate, interval, peer mean and flag, and for officers their
// agreement with the random audits.
func fairnessUnitSheet(name string, metrics []fairnessMetric, g fairnessGroup, audits bool) sheet {
	s := sheet{Name: name, Header: []string{"编号", name, "巡查次数", "扣分项", "扣分合计", "严重问题", "加分项", "被申诉", "申诉撤销", "整改通知", "转为扣分", "是否异常"}}
	for _, m := range metrics {
		for _, part := range []string{"原始值", "收缩估计", "区间下限", "区间上限", "同行均值", "异常"} {
			s.Header = append(s.Header, m.Name+" "+part)
		}
	}
	if audits {
		s.Header = append(s.Header, "抽查对比店次", "一致项", "记录项", "一致率", "Kappa", "每店扣分差（巡查员−抽查）")
	}
	for _, l := range g.Items {
		flagged := "否"
		if l.Flagged {
			flagged = "是"
		}
		row := []any{l.ID, l.Name, l.Inspections, l.Deductions, l.Points, l.Serious, l.Bonuses, l.Appealed, l.Reversed,
			l.Notices, l.NoticesDeducted, flagged}
		for _, m := range metrics {
			e := l.Rates[m.Key]
			var peer any = ""
			if e.PeerMean != nil {
				peer = *e.PeerMean
			}
			row = append(row, e.Raw, e.Estimate, e.Low, e.High, peer, fairnessFlagNames[e.Flag])
		}
		if audits {
			row = append(row, fairnessAgreementCells(l.AuditAgreement)...)
		}
		s.Rows = append(s.Rows, row)
	}
	return s
}

// fairnessAgreementCells are an officer's audit columns, empty without audits.
func fairnessAgreementCells(ag *officerAgreement) []any {
	if ag == nil {
		return []any{"", "", "", "", "", ""}
	}
	var kappa any = ""
	if ag.Kappa != nil {
		kappa = *ag.Kappa
	}
	return []any{ag.Shops, ag.Agreed, ag.ItemPairs, ag.Agreement, kappa, ag.PointsDiff}
}
