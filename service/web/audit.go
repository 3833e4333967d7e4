package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/menqian/menqian/service"
)

// auditPage is the number of events on a page of the audit log.
const auditPage = 50

// auditKindNames name the kinds of administrative change.
var auditKindNames = map[string]string{
	service.AuditCountyCreate: "新建区县", service.AuditCountyUpdate: "修改区县",
	service.AuditRoadCreate: "新建道路", service.AuditRoadUpdate: "修改道路", service.AuditDemonstration: "示范路状态",
	service.AuditMerchantCreate: "登记商户", service.AuditMerchantUpdate: "修改商户", service.AuditMerchantClose: "注销商户",
	service.AuditMerchantReopen: "恢复营业", service.AuditPlaqueReissue: "重新制发门牌", service.AuditImport: "批量导入",
	service.AuditReversal: "冲正积分", service.AuditAppealDecision: "处理申诉",
	service.AuditUserCreate: "新建账号", service.AuditUserUpdate: "修改账号", service.AuditCaseTransition: "办理举报案件",
	service.AuditOpen311Key: "签发 Open311 密钥", service.AuditOpen311Revoke: "吊销 Open311 密钥", service.AuditCertificateRevoke: "撤销信用证明",
	service.AuditRepairDecision: "处理信用修复申请", service.AuditSpotCheckDraw: "抽取抽查",
}

// auditObjectNames name the objects of events.
var auditObjectNames = map[string]string{service.AuditObjectCounty: "区县", service.AuditObjectRoad: "道路",
	service.AuditObjectMerchant: "商户", service.AuditObjectUser: "账号", service.AuditObjectCase: "举报案件",
	service.AuditObjectOpen311Key: "Open311 密钥", service.AuditObjectSpotCheck: "抽查"}

// auditFieldNames name the fields of events.
var auditFieldNames = map[string]string{
	"code": "区县代码", "username": "用户名", "name": "名称", "display_name": "姓名", "role": "账号类型", "county": "区县",
	"merchant": "商户", "road": "道路", "town": "镇/街道", "length_m": "长度", "officers": "责任巡查员",
	"uscc": "统一社会信用代码", "category": "经营类别", "owner_name": "负责人", "phone": "联系电话", "address": "地址",
	"lat": "纬度", "lng": "经度", "status": "经营状态", "disabled": "账号状态", "password_reset": "密码",
	"demo_road_target": "示范路目标", "demo_status": "示范路状态", "qr_generation": "门牌", "entry_id": "积分流水",
	"rule_code": "事项", "points": "分值", "appeal_id": "申诉", "appeal_status": "申诉结果", "reversed": "冲正",
	"repair_id": "信用修复申请", "repair_status": "修复申请结果", "reason": "理由", "certificate": "信用证明", "note": "说明", "format": "文件格式", "rows": "数据行", "created": "新增商户", "duplicates": "已登记（跳过）",
	"cycle": "考核月份", "seed": "随机种子", "shops": "抽查商户数", "roads": "道路数", "auditor": "抽查员",
}

// auditLine is one event as the table shows it.
type auditLine struct {
	service.AuditView
	KindName, ObjectName, County, Link string
	Clock                              string // the time of day, 10:00 (the date by the template's func)
	Changes                            []auditChangeLine
}

// auditChangeLine is one field of an event in words: "名称：柳泉路 → 柳泉东路".
type auditChangeLine struct {
	Label, Before, After string
	Edited               bool
}

// auditLog is the audit log (操作记录): a county admin's own county, the city
// admin's of every county or one, filtered by kind, newest first.
func (p *Pages) auditLog(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	q := r.URL.Query()
	page, kind, countyID := pageOf(q), q.Get("kind"), queryID(q, "county_id")
	events, total, err := p.svc.AuditEvents(ctx, a, service.AuditFilter{CountyID: countyID, Kind: kind,
		Paging: service.Paging{Limit: auditPage, Offset: (page - 1) * auditPage}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	counties, err := p.svc.Counties(ctx, a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	countyNames := map[int64]string{}
	for _, c := range counties {
		countyNames[c.ID] = c.Name
	}
	lines := make([]auditLine, len(events))
	for i, e := range events {
		lines[i] = p.auditLine(a, e, countyNames)
	}
	kinds := make([]struct{ Key, Label string }, 0, len(service.AuditKinds()))
	for _, k := range service.AuditKinds() {
		kinds = append(kinds, struct{ Key, Label string }{k, auditKindNames[k]})
	}
	scope := "全市"
	switch {
	case !a.IsCity():
		scope = countyNames[a.CountyID]
	case countyID != 0:
		scope = countyNames[countyID]
	}
	p.render(w, r, http.StatusOK, "console_audit.html", view{"Console": true, "Tab": "audit", "City": a.IsCity(),
		"Scope": scope, "Counties": counties, "County": countyID, "Kinds": kinds, "Kind": kind, "Lines": lines,
		"Total": total, "Pager": newPager(r, page, auditPage, int(total))})
}

// auditLine puts an event into words, with a link to the object's console
// page where there is one.
func (p *Pages) auditLine(a service.Actor, e service.AuditView, countyNames map[int64]string) auditLine {
	l := auditLine{AuditView: e, KindName: auditKindNames[e.Kind], ObjectName: auditObjectNames[e.ObjectType], County: "市级",
		Clock: e.OccurredAt.In(p.svc.Policy().Location()).Format("15:04")}
	if l.KindName == "" {
		l.KindName = e.Kind
	}
	if e.CountyID != nil {
		l.County = countyNames[*e.CountyID]
	}
	id := strconv.FormatInt(e.ObjectID, 10)
	switch e.ObjectType {
	case service.AuditObjectRoad:
		l.Link = "/console/roads/" + id
	case service.AuditObjectMerchant:
		l.Link = "/console/shops/" + id
	case service.AuditObjectCounty:
		if a.IsCity() {
			l.Link = "/console/counties/" + id
		}
	}
	for _, c := range e.Changes {
		line := auditChangeLine{Label: auditFieldNames[c.Field], Before: p.auditValue(c.Field, c.Before),
			After: p.auditValue(c.Field, c.After), Edited: c.Edited}
		if line.Label == "" {
			line.Label = c.Field
		}
		if c.Field == "password_reset" {
			line.Edited = false // "密码：已重置", never a password
		}
		l.Changes = append(l.Changes, line)
	}
	return l
}

// shopStatusNames name a shop's status in words.
var shopStatusNames = map[string]string{"active": "在营", "closed": "已注销"}

// auditValue writes a field's value in words; "—" for none.
func (p *Pages) auditValue(field string, v any) string {
	if v == nil || v == "" {
		return "—"
	}
	word := func(names map[string]string) string {
		s, _ := v.(string)
		if n, ok := names[s]; ok {
			return n
		}
		return s
	}
	switch field {
	case "role":
		return word(roleNames)
	case "status":
		return word(shopStatusNames)
	case "demo_status":
		return word(demoStatusNames)
	case "appeal_status":
		return word(appealStatusNames)
	case "format":
		return strings.ToUpper(word(nil))
	case "rule_code":
		code := word(nil)
		if it, ok := p.svc.Policy().Item(code); ok {
			return code + " " + it.Name
		}
		return code
	case "disabled":
		return map[bool]string{true: "已停用", false: "正常"}[v == true]
	case "password_reset":
		return map[bool]string{true: "已重置", false: "—"}[v == true]
	case "reversed":
		return map[bool]string{true: "已冲正", false: "未冲正"}[v == true]
	case "officers":
		list, _ := v.([]any)
		names := make([]string, 0, len(list))
		for _, n := range list {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
		if len(names) == 0 {
			return "无"
		}
		return strings.Join(names, "、")
	}
	n, ok := v.(float64)
	if !ok {
		if s, ok := v.(string); ok {
			return s
		}
		return "—"
	}
	num := strconv.FormatFloat(n, 'f', -1, 64)
	switch field {
	case "points":
		if n > 0 {
			return "+" + num + " 分"
		}
		return strings.Replace(num, "-", "−", 1) + " 分"
	case "length_m":
		return num + " 米"
	case "demo_road_target":
		return num + " 条"
	case "qr_generation":
		return "第 " + num + " 版"
	case "entry_id", "appeal_id":
		return "第 " + num + " 号"
	case "rows":
		return num + " 行"
	case "created", "duplicates":
		return num + " 户"
	}
	return num
}
