package service

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/xuri/excelize/v2"
)

// streamedXLSX writes a sheet of the header and n one-cell rows with
// excelize's StreamWriter, starting at row first (rows before it left out).
func streamedXLSX(t testing.TB, n, first int) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"商户名称"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, first+i)
		if err := sw.SetRow(cell, []any{fmt.Sprintf("商户%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func wantFileError(t *testing.T, err error, want string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalid || e.Fields["file"] != want {
		t.Fatalf("err = %v, want invalid_input with file: %s", err, want)
	}
}

// TestReadXLSXStopsAtLimit: a sheet far longer than the row limit is refused
// after reading one row past it, never all of it (the decompression bomb of
// issue 16: 6,000,000 rows in 1.7 MB were all loaded before the limit was
// checked); a row far down a sheet is refused when reached, blank rows
// inside a register are kept, blank rows at its end dropped.
func TestReadXLSXStopsAtLimit(t *testing.T) {
	lim := tableLimits{rows: 100, unzip: importLimits.unzip, unzipHeld: importLimits.unzipHeld}
	rows, read, err := readXLSX(streamedXLSX(t, 20_000, 2), lim)
	wantFileError(t, err, "最多 100 行")
	if rows != nil || read != lim.rows+2 {
		t.Errorf("read %d rows (kept %d), want to stop at row %d", read, len(rows), lim.rows+2)
	}

	// The header and one row at row 1,000,000: nothing is kept of the gap.
	rows, read, err = readXLSX(streamedXLSX(t, 1, 1_000_000), lim)
	wantFileError(t, err, "最多 100 行")
	if read > 2*(lim.rows+1)+1 {
		t.Errorf("read %d rows of a gap, want at most %d", read, 2*(lim.rows+1)+1)
	}

	// Exactly the limit: every row, numbered as in the sheet.
	rows, read, err = readXLSX(streamedXLSX(t, 100, 2), lim)
	if err != nil || len(rows) != 101 || rows[100][0] != "商户99" || read != 101 {
		t.Fatalf("100 rows: %d rows, read %d, err %v", len(rows), read, err)
	}
	// A blank row inside is kept (row numbers stay those of the sheet).
	rows, _, err = readXLSX(streamedXLSX(t, 3, 4), lim)
	if err != nil || len(rows) != 6 || len(rows[1]) != 0 || len(rows[2]) != 0 || rows[3][0] != "商户0" {
		t.Fatalf("rows with a gap: %q, err %v", rows, err)
	}
}

// TestReadXLSXUnzipLimit: an XLSX whose parts unzip to more than the limit
// (here a padding part of zeros, 5 MiB against a limit of 4 MiB: the
// import's own 128 MiB works the same way, and deflating 129 MiB under
// -race took 40 s) is refused before any of it is unzipped; excelize's
// default limit is 16 GB.
func TestReadXLSXUnzipLimit(t *testing.T) {
	if importLimits.unzip != 128<<20 {
		t.Fatalf("the import unzips up to %d bytes, want 128 MiB", importLimits.unzip)
	}
	lim := importLimits
	lim.unzip, lim.unzipHeld = 4<<20, 1<<20
	small := streamedXLSX(t, 1, 2)
	zr, err := zip.NewReader(bytes.NewReader(small), int64(len(small)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.Create("xl/media/padding.bin")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range lim.unzip>>20 + 1 {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > MaxImportBytes {
		t.Fatalf("the test file is %d bytes, over the upload limit", buf.Len())
	}
	_, read, err := readXLSX(buf.Bytes(), lim)
	wantFileError(t, err, "XLSX 文件解压后超过 4 MiB，请删去多余的工作表、图片和空行")
	if read != 0 {
		t.Errorf("read %d rows", read)
	}
	// The same file without the padding reads.
	if rows, _, err := readXLSX(small, lim); err != nil || len(rows) != 2 {
		t.Errorf("small file: %d rows, %v", len(rows), err)
	}
}
