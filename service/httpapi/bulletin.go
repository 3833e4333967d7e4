package httpapi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/menqian/menqian/service"
)

func (a *API) bulletin(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	format, ok := a.tablesFormat(c)
	if !ok {
		return
	}
	b, err := a.svc.CountyBulletin(c.Request.Context(), actor(c), id, c.Param("cycle"))
	if err != nil {
		a.fail(c, err)
		return
	}
	name := fmt.Sprintf("bulletin-%s-%s", b.Cycle, b.County)
	if !b.Provisional {
		c.Header("Cache-Control", "private, max-age=86400") // a closed cycle's bulletin never changes
	}
	a.sendTables(c, format, name, b, func() []sheet { return bulletinSheets(b) })
}

// tablesFormat reads ?format= of a report with downloads: json (the
// default), csv or xlsx; anything else is answered 400.
func (a *API) tablesFormat(c *gin.Context) (string, bool) {
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "csv" && format != "xlsx" {
		a.fail(c, service.Invalid(map[string]string{"format": "应为 json、csv 或 xlsx"}))
		return "", false
	}
	return format, true
}

// sendTables answers a report as body (JSON) or its tables as a CSV or XLSX
// download named name.
func (a *API) sendTables(c *gin.Context, format, name string, body any, tables func() []sheet) {
	switch format {
	case "json":
		c.JSON(http.StatusOK, body)
	case "csv":
		c.Header("Content-Disposition", attachment(name+".csv"))
		c.Data(http.StatusOK, "text/csv; charset=utf-8", sheetsCSV(tables()))
	case "xlsx":
		data, err := sheetsXLSX(tables())
		if err != nil {
			a.fail(c, err)
			return
		}
		c.Header("Content-Disposition", attachment(name+".xlsx"))
		c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", data)
	}
}

// attachment names a download, with an ASCII fallback and the UTF-8 name (RFC 6266).
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, urlEscape(name))
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sheet is one table of a CSV or XLSX export (a bulletin's, the fairness report's).
type sheet struct {
	Name   string
	Header []string
	Rows   [][]any // string, int or float64 cells
}

var reasonNames = map[string]string{service.ReasonSerious: "严重违规", service.ReasonWatch: "重点监管（低于60分）", service.ReasonBottom: "排名末位"}

var failNames = map[string]string{service.FailMerchants: "商户不足", service.FailInspected: "未全覆盖巡查",
	service.FailAverage: "平均分不足", service.FailRated: "四星以上比例不足", service.FailSerious: "有严重违规", service.FailOverdue: "有逾期整改"}

// bulletinSheets lays a bulletin out as the tables of its CSV and XLSX exports.
func bulletinSheets(b service.Bulletin) []sheet {
	status := "正式"
	if b.Provisional {
		status = "临时（本月未结束，数据会变化）"
	}
	info := sheet{Name: "说明", Header: []string{"项目", "内容"}, Rows: [][]any{
		{"区县", b.County}, {"考核周期", b.Cycle}, {"状态", status}, {"商户数", b.Merchants},
		{"示范路目标", b.Demonstration.Target}, {"已申报示范路", b.Demonstration.Designated},
		{"已验收", b.Demonstration.Accepted}, {"当前达标", b.Demonstration.Qualified},
	}}
	merchantHeader := []string{"名次", "商户编码", "商户名称", "道路", "积分", "星级", "扣分", "加分", "严重问题"}
	red := sheet{Name: "红榜", Header: merchantHeader}
	for _, m := range b.Red {
		red.Rows = append(red.Rows, []any{m.Rank, m.Code, m.Name, m.Road, m.Score, m.RatedStar, m.Deductions, m.Bonuses, m.Serious})
	}
	black := sheet{Name: "黑榜", Header: append(append([]string{}, merchantHeader...), "原因")}
	for _, m := range b.Black {
		why := make([]string, len(m.Reasons))
		for i, r := range m.Reasons {
			why[i] = reasonNames[r]
		}
		black.Rows = append(black.Rows, []any{m.Rank, m.Code, m.Name, m.Road, m.Score, m.RatedStar, m.Deductions, m.Bonuses, m.Serious, strings.Join(why, "；")})
	}
	roads := sheet{Name: "道路排名", Header: []string{"名次", "道路", "道路积分", "商户数", "示范路状态", "是否达标", "未达标项", "巡查覆盖率", "四星以上比例", "严重问题"}}
	for _, r := range b.Roads {
		fails := make([]string, len(r.Failing))
		for i, f := range r.Failing {
			fails[i] = failNames[f]
		}
		ok := "否"
		if r.Qualified {
			ok = "是"
		}
		roads.Rows = append(roads.Rows, []any{r.Rank, r.Name, r.Score, r.Merchants, service.DemoStatusName(r.Demonstration), ok,
			strings.Join(fails, "；"), r.Metrics.InspectedShare, r.Metrics.RatedHighShare, r.Metrics.SeriousItems})
	}
	return []sheet{info, red, black, roads}
}

// inert neutralises text a spreadsheet would run as a formula (CSV injection).
func inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// cellText is a cell as CSV text: numbers as written, text made inert.
func cellText(v any) string {
	switch x := v.(type) {
	case string:
		return inert(x)
	case float64:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", x), "0"), ".")
	}
	return fmt.Sprint(v)
}

// sheetsCSV writes every table one after another, each under its title row,
// in UTF-8 with a BOM so Excel and WPS show the Chinese.
func sheetsCSV(sheets []sheet) []byte {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	for i, s := range sheets {
		if i > 0 {
			w.Write([]string{})
		}
		w.Write([]string{"【" + s.Name + "】"})
		w.Write(s.Header)
		for _, row := range s.Rows {
			rec := make([]string, len(row))
			for j, v := range row {
				rec[j] = cellText(v)
			}
			w.Write(rec)
		}
	}
	w.Flush()
	return buf.Bytes()
}

// sheetsXLSX writes one sheet per table with a bold header row and widths
// fitted to the content; text cells are stored as strings, never formulas.
func sheetsXLSX(sheets []sheet) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"F2F2F2"}, Pattern: 1}})
	if err != nil {
		return nil, err
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.Name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(s.Name); err != nil {
			return nil, err
		}
		widths := make([]int, len(s.Header))
		for j, h := range s.Header {
			cell, _ := excelize.CoordinatesToCellName(j+1, 1)
			f.SetCellStr(s.Name, cell, h)
			widths[j] = displayWidth(h)
		}
		for r, row := range s.Rows {
			for j, v := range row {
				cell, _ := excelize.CoordinatesToCellName(j+1, r+2)
				switch x := v.(type) {
				case string:
					f.SetCellStr(s.Name, cell, inert(x))
				default:
					f.SetCellValue(s.Name, cell, x)
				}
				if w := displayWidth(cellText(v)); j < len(widths) && w > widths[j] {
					widths[j] = w
				}
			}
		}
		last, _ := excelize.CoordinatesToCellName(len(s.Header), 1)
		f.SetCellStyle(s.Name, "A1", last, bold)
		for j, w := range widths {
			col, _ := excelize.ColumnNumberToName(j + 1)
			f.SetColWidth(s.Name, col, col, float64(min(max(w+2, 6), 60)))
		}
		f.SetPanes(s.Name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
	f.SetDocProps(&excelize.DocProperties{Creator: "menqian", Created: time.Unix(0, 0).UTC().Format(time.RFC3339)})
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// displayWidth counts CJK characters double, as spreadsheets show them.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r > 0x2e80 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
