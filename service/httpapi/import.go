package httpapi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/menqian/menqian/service"
)

// importMerchants takes multipart field `file` (CSV or XLSX) with
// ?county_id=&commit=true|false; without commit=true it is a dry run.
func (a *API) importMerchants(c *gin.Context) {
	f := map[string]string{}
	county := queryInt(c, "county_id", f)
	commit := false
	switch v := c.DefaultQuery("commit", "false"); v {
	case "true", "1":
		commit = true
	case "false", "0":
	default:
		f["commit"] = "应为 true 或 false"
	}
	if !a.checkQuery(c, f) {
		return
	}
	fh, file, ok := a.formFile(c, service.MaxImportBytes, " CSV 或 XLSX")
	if !ok {
		return
	}
	defer file.Close()
	format := strings.TrimPrefix(strings.ToLower(path.Ext(fh.Filename)), ".")
	if v := c.Query("format"); v != "" {
		format = v
	}
	rep, err := a.svc.ImportMerchants(c.Request.Context(), actor(c), county, format, file, commit)
	if err != nil {
		a.fail(c, err)
		return
	}
	if commit && len(rep.Errors) > 0 {
		fields := map[string]string{}
		for i, p := range rep.Errors {
			if i == 200 {
				fields["more"] = fmt.Sprintf("另有 %d 处错误未列出", len(rep.Errors)-200)
				break
			}
			fields[fmt.Sprintf("row %d %s", p.Row, p.Column)] = p.Problem
		}
		a.fail(c, &service.Error{Code: service.CodeInvalid, Message: fmt.Sprintf("有 %d 处错误，未导入任何商户", len(rep.Errors)), Fields: fields})
		return
	}
	status := http.StatusOK
	if rep.Created > 0 {
		status = http.StatusCreated
	}
	c.JSON(status, rep)
}

// importTemplate serves the empty register with its header and one example
// row, to those who may import.
func (a *API) importTemplate(c *gin.Context) {
	header, err := a.svc.ImportTemplate(actor(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	example := []string{"张记烧烤", "柳泉路", "91370303MA3C0YX87F", "餐饮", "张三", "13853312345", "张店区柳泉路 88 号", "36.8131", "118.0549"}
	switch c.DefaultQuery("format", "xlsx") {
	case "csv":
		var buf bytes.Buffer
		buf.WriteString("\ufeff")
		w := csv.NewWriter(&buf)
		w.UseCRLF = true
		w.Write(header)
		w.Write(example)
		w.Flush()
		c.Header("Content-Disposition", attachment("商户导入模板.csv"))
		c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	case "xlsx":
		f := excelize.NewFile()
		defer f.Close()
		for j := range header {
			for r, row := range [][]string{header, example} {
				cell, _ := excelize.CoordinatesToCellName(j+1, r+1)
				f.SetCellStr("Sheet1", cell, row[j])
			}
			col, _ := excelize.ColumnNumberToName(j + 1)
			f.SetColWidth("Sheet1", col, col, float64(max(displayWidth(header[j]), displayWidth(example[j]))+4))
		}
		buf, err := f.WriteToBuffer()
		if err != nil {
			a.fail(c, err)
			return
		}
		c.Header("Content-Disposition", attachment("商户导入模板.xlsx"))
		c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
	default:
		a.fail(c, service.Invalid(map[string]string{"format": "应为 csv 或 xlsx"}))
	}
}
