package service

import (
	"archive/zip"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// fuzzLimits keep the fuzzed files small: five data rows, the import's
// unzip limits.
var fuzzLimits = tableLimits{rows: 5, unzip: importLimits.unzip, unzipHeld: importLimits.unzipHeld}

// checkTable holds the properties every read of an import file has,
// whatever the file: a refusal is invalid_input naming the file, never
// anything else; a table has the header and at most lim.rows rows; and
// reading with a far higher limit agrees: the same rows when this read
// took them, more rows than the limit (or a refusal) when it refused the
// file as too long, the same refusal otherwise.
func checkTable(t *testing.T, format string, data []byte, rows [][]string, err error) {
	t.Helper()
	big := fuzzLimits
	big.rows = 1000
	bigRows, bigErr := readTable(format, data, big)
	tooMany := errTooManyRows(fuzzLimits.rows).Error()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalid || e.Fields["file"] == "" {
			t.Fatalf("readTable(%s, %q) = %v: want invalid_input naming the file", format, data, err)
		}
		if rows != nil {
			t.Fatalf("readTable(%s, %q) refused the file but returned %d rows", format, data, len(rows))
		}
		switch {
		case err.Error() == tooMany:
			if bigErr == nil && len(bigRows) <= fuzzLimits.rows+1 {
				t.Fatalf("readTable(%s, %q) = %v, but it has %d rows", format, data, err, len(bigRows))
			}
		case bigErr == nil || bigErr.Error() != err.Error():
			t.Fatalf("readTable(%s, %q) = %v, with a higher limit %v", format, data, err, bigErr)
		}
		return
	}
	if len(rows) > fuzzLimits.rows+1 {
		t.Fatalf("readTable(%s, %q) = %d rows, over the limit of %d and the header", format, data, len(rows), fuzzLimits.rows)
	}
	if bigErr != nil || !reflect.DeepEqual(bigRows, rows) {
		t.Fatalf("readTable(%s, %q) = %q, with a higher limit %q, %v", format, data, rows, bigRows, bigErr)
	}
}

// quotedCSV writes rows as CSV with every field quoted, which reads back
// as exactly the same fields (encoding/csv's Writer leaves a lone empty
// field unquoted, an empty line that readers skip).
func quotedCSV(rows [][]string) []byte {
	var b bytes.Buffer
	for _, row := range rows {
		for j, v := range row {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strings.ReplaceAll(v, `"`, `""`) + `"`)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// FuzzReadTableCSV: the import's CSV reader (UTF-8 with or without a BOM,
// or GBK) never panics, keeps to the row limit and refuses only with a
// field error on the file (checkTable); and the rows it reads, written out
// again as UTF-8 CSV, read back as the same rows.
func FuzzReadTableCSV(f *testing.F) {
	header := strings.Join(ImportHeader(), ",")
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(header + "\n张记烧烤,柳泉路,,餐饮,张三,13853312345,\"淄博市张店区柳泉路 1 号\",36.8,118.05\n")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(header + "\n张记烧烤,柳泉路,91330100716105852F,餐饮,张三,13853312345,柳泉路 1 号,36.8,118.05\n"))
	f.Add([]byte("\ufeff" + header + "\r\n\"李记,面馆\",\"共青团路\"\r\n,,\r\n\"多行\n地址\"\r\n"))
	f.Add([]byte(gbk))
	f.Add([]byte("name,road\n a , b \n\"\"\n\"x\"\"y\",z\n1\n2\n3\n4\n"))
	f.Add([]byte("name,road\n1\n2\n3\n4\n5\n6\n"))
	f.Add([]byte("a,\"b\nc"))
	f.Add([]byte("\xff\xfe\x00a"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := readTable("csv", data, fuzzLimits)
		checkTable(t, "csv", data, rows, err)
		if err != nil {
			return
		}
		again, err := readTable("csv", quotedCSV(rows), fuzzLimits)
		if err != nil || !reflect.DeepEqual(again, rows) {
			t.Fatalf("readTable(%q) = %q; written out again %q, it reads %q, %v", data, rows, quotedCSV(rows), again, err)
		}
	})
}

// xlsxPackage is the smallest XLSX package excelize reads: a workbook of
// one sheet, with a shared-string table.
var xlsxPackage = map[string]string{
	"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`,
	"_rels/.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
	"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
	"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
}

// xlsxParts returns an XLSX file of xlsxPackage with the fuzzer's sheet and
// shared strings (left out when empty), so the fuzzer works on the XML that
// carries the rows, not on the zip around it.
func xlsxParts(t testing.TB, sheet, shared []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err == nil {
			_, err = w.Write(data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"} {
		put(name, []byte(xlsxPackage[name]))
	}
	put("xl/worksheets/sheet1.xml", sheet)
	if len(shared) > 0 {
		put("xl/sharedStrings.xml", shared)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writtenXLSX writes rows into the first sheet of a new XLSX file, every
// cell as a string.
func writtenXLSX(t testing.TB, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v
		}
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err == nil {
			err = f.SetSheetRow("Sheet1", cell, &cells)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
	sstHead   = `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
)

// FuzzReadTableXLSX: the import's XLSX reader, given any first sheet and
// shared-string table, never panics, keeps to the row limit (a row far
// down the sheet included) and refuses only with a field error on the file
// (checkTable); and the rows it reads, written into a new XLSX file, read
// back as the same rows.
func FuzzReadTableXLSX(f *testing.F) {
	f.Add([]byte(sheetHead+`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>`+sheetTail),
		[]byte(sstHead+`<si><t>商户名称</t></si><si><t>道路</t></si><si><t xml:space="preserve"> 张记 </t></si><si><r><t>柳泉</t></r><r><t>路</t></r></si></sst>`))
	f.Add([]byte(sheetHead+`<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="C1" t="inlineStr"><is><t>road</t></is></c></row><row r="4"><c r="B4"><v>36.80</v></c><c r="C4" t="b"><v>1</v></c><c r="D4" t="str"><f>1+1</f><v>2</v></c></row>`+sheetTail), []byte(nil))
	f.Add([]byte(sheetHead+`<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>`+sheetTail), []byte(nil))
	f.Add([]byte(sheetHead+`<row><c t="inlineStr"><is><t>a</t></is></c></row><row><c t="inlineStr"><is><t>b</t></is></c></row><row/><row/><row/><row/><row/><row/><row/><row/><row/><row/><row/><row/><row><c><v>1</v></c></row>`+sheetTail), []byte(nil))
	f.Add([]byte(sheetHead+`<row r="2"><c r="A2" t="s"><v>7</v></c></row><row r="1"><c r="A1" t="e"><v>#N/A</v></c></row>`+sheetTail), []byte(sstHead+`<si><t>x</t></si></sst>`))
	f.Add([]byte("not xml"), []byte("<sst"))
	f.Fuzz(func(t *testing.T, sheet, shared []byte) {
		data := xlsxParts(t, sheet, shared)
		rows, err := readTable("xlsx", data, fuzzLimits)
		checkTable(t, "xlsx", data, rows, err)
		if err != nil {
			return
		}
		again, err := readTable("xlsx", writtenXLSX(t, rows), fuzzLimits)
		if err != nil || !reflect.DeepEqual(again, rows) {
			t.Fatalf("sheet %q, shared strings %q: read %q; written out again, it reads %q, %v", sheet, shared, rows, again, err)
		}
	})
}
