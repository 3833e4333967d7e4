package service

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
)

// Import limits: a county register of tens of thousands of shops fits.
const (
	MaxImportBytes = 16 << 20
	MaxImportRows  = 50_000
)

// importColumns are the register's columns: the Chinese header of the
// template, the English alias, and whether a value is required.
var importColumns = []struct {
	Header, Field string
	Required      bool
}{
	{"商户名称", "name", true}, {"道路", "road", true}, {"统一社会信用代码", "uscc", false}, {"经营类别", "category", false},
	{"负责人", "owner_name", false}, {"联系电话", "phone", false}, {"地址", "address", false},
	{"纬度", "lat", false}, {"经度", "lng", false},
}

// ImportTemplate returns the header row of the import template to those who
// may import (the county and city admins).
func (s *Service) ImportTemplate(a Actor) ([]string, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return nil, errForbidden
	}
	return ImportHeader(), nil
}

// ImportHeader is the template's header row.
func ImportHeader() []string {
	out := make([]string, len(importColumns))
	for i, c := range importColumns {
		out[i] = c.Header
	}
	return out
}

// ImportProblem is one bad cell of an import file (rows count from 1 = header).
type ImportProblem struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Problem string `json:"problem"`
}

// ImportDuplicate is a row that matches a merchant already registered.
type ImportDuplicate struct {
	Row        int    `json:"row"`
	MerchantID int64  `json:"merchant_id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
}

// ImportReport says what an import found and did.
type ImportReport struct {
	Commit     bool              `json:"commit"`
	Rows       int               `json:"rows"`
	Valid      int               `json:"valid"`
	Created    int               `json:"created"`
	Duplicates []ImportDuplicate `json:"duplicates"`
	Errors     []ImportProblem   `json:"errors"`
}

// ImportMerchants reads a county's shop register (CSV in UTF-8 or GBK, or XLSX)
// and reports every bad row. A dry run stores nothing; a commit stores every
// new row or, if any row is bad, none. Rows matching a registered merchant (by
// USCC, or by road and name without one) are reported as duplicates and skipped,
// so importing the same file twice never doubles a shop.
func (s *Service) ImportMerchants(ctx context.Context, a Actor, countyID int64, format string, r io.Reader, commit bool) (ImportReport, error) {
	rep := ImportReport{Commit: commit, Duplicates: []ImportDuplicate{}, Errors: []ImportProblem{}}
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return rep, errForbidden
	}
	if countyID <= 0 {
		return rep, Invalid(map[string]string{"county_id": "必填"})
	}
	county, err := s.County(ctx, a, countyID)
	if err != nil {
		return rep, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return rep, err
	}
	if len(data) > MaxImportBytes {
		return rep, Errorf(CodeTooLarge, "文件不能超过 %d MiB", MaxImportBytes>>20)
	}
	table, err := readTable(format, data, importLimits)
	if err != nil {
		return rep, err
	}
	if len(table) < 1 {
		return rep, Invalid(map[string]string{"file": "文件为空：第一行应为表头"})
	}
	cols, err := mapHeader(table[0])
	if err != nil {
		return rep, err
	}

	roads, err := s.db.BoardRoads(ctx, countyID)
	if err != nil {
		return rep, err
	}
	roadByName := map[string]int64{}
	for _, rd := range roads {
		roadByName[rd.Name] = rd.ID
	}
	existing, err := s.db.RankedMerchantsOfCounty(ctx, countyID, time.Time{}) // the active ones
	if err != nil {
		return rep, err
	}
	byRoadName := map[string]models.CountyMerchant{}
	for _, m := range existing {
		byRoadName[strconv.FormatInt(m.RoadID, 10)+"\x00"+m.Name] = m
	}

	type pending struct {
		row int
		m   models.Merchant
	}
	var rows []pending
	seenUSCC := map[string]int{}
	seenName := map[string]int{}
	for i, rec := range table[1:] {
		rowNo := i + 2
		if blankRecord(rec) {
			continue
		}
		rep.Rows++
		get := func(field string) *string {
			j, ok := cols[field]
			if !ok || j >= len(rec) {
				v := ""
				return &v
			}
			v := strings.TrimSpace(rec[j])
			return &v
		}
		f := fieldErrors{}
		in := MerchantInput{Name: get("name"), USCC: get("uscc"), Category: get("category"), OwnerName: get("owner_name"),
			Phone: get("phone"), Address: get("address")}
		for _, ll := range []struct {
			field string
			dst   **float64
		}{{"lat", &in.Lat}, {"lng", &in.Lng}} {
			if v := *get(ll.field); v != "" {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					f.add(ll.field, "应为数字")
				} else {
					*ll.dst = &x
				}
			}
		}
		now := s.now().Truncate(time.Millisecond)
		m := models.Merchant{Status: "active", QRGeneration: 1, CountyID: countyID, CreatedAt: now, UpdatedAt: now}
		checkMerchantFields(f, in, &m, map[string]any{}, true)
		roadName := *get("road")
		roadID, ok := roadByName[roadName]
		switch {
		case roadName == "":
			f.add("road", "必填")
		case !ok:
			f.add("road", "本区县没有名为 "+strconv.Quote(roadName)+" 的道路")
		}
		m.RoadID = roadID
		if len(f) == 0 && m.USCC != nil {
			if prev, dup := seenUSCC[*m.USCC]; dup {
				f.add("uscc", fmt.Sprintf("与第 %d 行重复", prev))
			} else {
				seenUSCC[*m.USCC] = rowNo
			}
		}
		nameKey := strconv.FormatInt(roadID, 10) + "\x00" + m.Name
		if len(f) == 0 && m.USCC == nil {
			if prev, dup := seenName[nameKey]; dup {
				f.add("name", fmt.Sprintf("与第 %d 行同路同名", prev))
			} else {
				seenName[nameKey] = rowNo
			}
		}
		for _, c := range importColumns { // report in column order
			if p, bad := f[c.Field]; bad {
				rep.Errors = append(rep.Errors, ImportProblem{Row: rowNo, Column: c.Header, Problem: p})
			}
		}
		if len(f) > 0 {
			continue
		}
		if m.USCC == nil {
			if old, dup := byRoadName[nameKey]; dup {
				rep.Duplicates = append(rep.Duplicates, ImportDuplicate{Row: rowNo, MerchantID: old.ID, Code: old.Code, Name: old.Name})
				continue
			}
		}
		rows = append(rows, pending{row: rowNo, m: m})
	}

	// USCCs already registered anywhere are duplicates, not new shops.
	var usccs []string
	for _, p := range rows {
		if p.m.USCC != nil {
			usccs = append(usccs, *p.m.USCC)
		}
	}
	registered, err := s.db.MerchantsByUSCC(ctx, usccs)
	if err != nil {
		return rep, err
	}
	fresh := rows[:0]
	for _, p := range rows {
		if p.m.USCC != nil {
			if old, dup := registered[*p.m.USCC]; dup {
				if old.CountyID != countyID {
					rep.Errors = append(rep.Errors, ImportProblem{Row: p.row, Column: "统一社会信用代码", Problem: "已在其他区县登记"})
					continue
				}
				rep.Duplicates = append(rep.Duplicates, ImportDuplicate{Row: p.row, MerchantID: old.ID, Code: old.Code, Name: old.Name})
				continue
			}
		}
		fresh = append(fresh, p)
	}
	rep.Valid = len(fresh) + len(rep.Duplicates)
	if !commit || len(rep.Errors) > 0 {
		return rep, nil
	}
	ms := make([]models.Merchant, len(fresh))
	for i, p := range fresh {
		ms[i] = p.m
	}
	for attempt := 0; ; attempt++ {
		for i := range ms {
			ms[i].ID = 0
			if ms[i].Code, err = qrcodes.NewCode(); err != nil {
				return rep, err
			}
		}
		err = s.db.InTx(ctx, func(ctx context.Context) error {
			if err := s.db.CreateMerchants(ctx, ms); err != nil {
				return err
			}
			// One event for the whole file, not one per shop.
			return s.audit(ctx, a, auditRecord{kind: AuditImport, objectType: AuditObjectCounty, objectID: county.ID,
				countyID: &county.ID, summary: fmt.Sprintf("%s 导入商户 %d 户", countyLabel(county), len(ms)),
				after: map[string]any{"format": format, "rows": rep.Rows, "created": len(ms), "duplicates": len(rep.Duplicates)}})
		})
		if models.IsDuplicateOf(err, "uq_merchants_code") && attempt < 3 {
			continue // two random codes collided: draw all again, the transaction stored nothing
		}
		if errors.Is(err, models.ErrDuplicate) {
			return rep, Errorf(CodeConflict, "导入期间有商户被同时登记，请重新导入")
		}
		if err != nil {
			return rep, err
		}
		break
	}
	rep.Created = len(ms)
	if err := s.board.Rebuild(ctx, s.CurrentCycle()); err != nil {
		s.log.Warn("leaderboard rebuild after import", "err", err)
	}
	return rep, nil
}

func blankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// mapHeader finds each known column by its Chinese header or English alias.
func mapHeader(h []string) (map[string]int, error) {
	cols := map[string]int{}
	known := map[string]string{}
	for _, c := range importColumns {
		known[c.Header], known[c.Field] = c.Field, c.Field
	}
	var unknown []string
	for j, name := range h {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		if name == "" {
			continue
		}
		field, ok := known[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		cols[field] = j
	}
	f := fieldErrors{}
	for _, c := range importColumns {
		if _, ok := cols[c.Field]; !ok && c.Required {
			f.add("file", "缺少必填列 "+c.Header)
		}
	}
	if len(unknown) > 0 {
		f.add("header", "未知的列："+strings.Join(unknown, "、"))
	}
	return cols, f.err()
}

// tableLimits bound what reading an import file may cost.
type tableLimits struct {
	rows      int   // data rows after the header
	unzip     int64 // bytes an XLSX may unzip to, all parts together
	unzipHeld int64 // bytes of one sheet or string table held in memory (more goes to a temporary file)
}

// importLimits are the limits of an import: MaxImportRows, and unzip sizes
// derived from the upload limit. A real register of MaxImportRows shops is
// about 2 MiB zipped and 26 MiB unzipped; excelize's own default (16 GB)
// let a 1.7 MB file of six million rows take 52 s and 750 MiB.
var importLimits = tableLimits{rows: MaxImportRows, unzip: 8 * MaxImportBytes, unzipHeld: 2 * MaxImportBytes}

// errTooManyRows is the refusal of a file longer than limit data rows.
func errTooManyRows(limit int) error {
	return Invalid(map[string]string{"file": fmt.Sprintf("最多 %d 行", limit)})
}

// readTable parses a CSV (UTF-8 with or without BOM, or GBK as saved by
// Chinese Excel) or the first sheet of an XLSX file, the header and at most
// lim.rows rows after it: reading stops at the first row past the limit.
func readTable(format string, data []byte, lim tableLimits) ([][]string, error) {
	switch format {
	case "xlsx":
		rows, _, err := readXLSX(data, lim)
		return rows, err
	case "csv":
		data = bytes.TrimPrefix(data, []byte("\ufeff"))
		if !utf8.Valid(data) {
			dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
			if err != nil {
				return nil, Invalid(map[string]string{"file": "文件编码无法识别（请用 UTF-8 或 GBK）"})
			}
			data = dec
		}
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		r.TrimLeadingSpace = true
		var rows [][]string
		for {
			rec, err := r.Read()
			var pe *csv.ParseError
			switch {
			case err == io.EOF:
				return rows, nil
			case errors.As(err, &pe):
				return nil, Invalid(map[string]string{"file": fmt.Sprintf("CSV 第 %d 行格式错误", pe.Line)})
			case err != nil:
				return nil, err
			case len(rows) > lim.rows:
				return nil, errTooManyRows(lim.rows)
			}
			rows = append(rows, rec)
		}
	}
	return nil, Invalid(map[string]string{"format": "应为 csv 或 xlsx"})
}

// readXLSX streams the first sheet of an XLSX file row by row, as excelize's
// GetRows would return it (blank rows inside kept as empty, blank rows at the
// end dropped), and says how many rows it read. Every part of the file is
// unzipped within lim's sizes. A row with cells past the header and lim.rows
// rows refuses the file as soon as it is read; so does a sheet running on
// past twice that in blank rows, which no register needs.
func readXLSX(data []byte, lim tableLimits) (rows [][]string, read int, err error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: lim.unzip, UnzipXMLSizeLimit: lim.unzipHeld})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size exceeds") {
			return nil, 0, Invalid(map[string]string{"file": fmt.Sprintf("XLSX 文件解压后超过 %d MiB，请删去多余的工作表、图片和空行", lim.unzip>>20)})
		}
		return nil, 0, Invalid(map[string]string{"file": "无法读取 XLSX 文件"})
	}
	defer f.Close()
	it, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		return nil, 0, Invalid(map[string]string{"file": "无法读取 XLSX 工作表"})
	}
	defer it.Close()
	last := 0 // rows up to the last one with cells
	for it.Next() {
		read++
		row, err := it.Columns()
		if err != nil {
			return nil, read, Invalid(map[string]string{"file": "无法读取 XLSX 工作表"})
		}
		if len(row) == 0 {
			if read > 2*(lim.rows+1) {
				return nil, read, errTooManyRows(lim.rows)
			}
			continue
		}
		if read > lim.rows+1 {
			return nil, read, errTooManyRows(lim.rows)
		}
		rows = append(rows, make([][]string, read-last-1)...)
		rows = append(rows, row)
		last = read
	}
	if it.Error() != nil {
		return nil, read, Invalid(map[string]string{"file": "无法读取 XLSX 工作表"})
	}
	return rows, read, nil
}

// ImportSheet is an import file as ImportMerchants reads it, for showing a
// dry run row by row: the header as written and each non-blank row with its
// number (the header is row 1, as in ImportProblem).
type ImportSheet struct {
	Header []string
	Rows   []ImportRow
}

// ImportRow is one non-blank row of an import file.
type ImportRow struct {
	Row   int
	Cells []string // as in the file, padded to the header's width
	Name  string   // the shop's name as given
	Road  string   // the road's name as given
}

// ReadImportSheet reads an import file (format csv or xlsx) without checking
// its rows; ImportMerchants says what is wrong with them.
func ReadImportSheet(format string, r io.Reader) (ImportSheet, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return ImportSheet{}, err
	}
	if len(data) > MaxImportBytes {
		return ImportSheet{}, Errorf(CodeTooLarge, "文件不能超过 %d MiB", MaxImportBytes>>20)
	}
	table, err := readTable(format, data, importLimits)
	if err != nil || len(table) == 0 {
		return ImportSheet{}, err
	}
	cols, _ := mapHeader(table[0]) // a bad header is the dry run's to report
	sh := ImportSheet{Header: table[0]}
	if len(sh.Header) > 0 {
		sh.Header[0] = strings.TrimPrefix(sh.Header[0], "\ufeff")
	}
	for i, rec := range table[1:] {
		if blankRecord(rec) {
			continue
		}
		cell := func(field string) string {
			if j, ok := cols[field]; ok && j < len(rec) {
				return strings.TrimSpace(rec[j])
			}
			return ""
		}
		cells := make([]string, max(len(rec), len(sh.Header)))
		copy(cells, rec)
		sh.Rows = append(sh.Rows, ImportRow{Row: i + 2, Cells: cells, Name: cell("name"), Road: cell("road")})
	}
	return sh, nil
}
