package web

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/menqian/menqian/service"
)

// The import wizard (批量导入): download the template, upload a register, see
// the dry run row by row, commit.
//
// Between the dry run and the commit the file travels with the page, not in
// the server: the dry-run page carries it gzipped in a hidden field with a
// seal (a MAC under the server's key, bound to the account and its county),
// and the commit sends it back. So any instance behind the load balancer can
// take the commit (the design's stateless instances), nothing piles up on
// disk, and nothing expires half-way through a lunch break. The seal means the
// commit imports exactly the file whose dry run the user saw; and the commit
// never trusts the page's verdict: the service checks every row again and
// stores nothing if any is bad.

// maxImportField bounds the hidden field (a commit form's body is at most
// maxFormBodyBytes); a register a hundred times the size of a county's still
// fits, as CSV compresses about tenfold.
const maxImportField = 12 << 20

// importForm offers the template and the upload form.
func (p *Pages) importForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "console_import.html", importView(nil))
}

func importView(v view) view {
	if v == nil {
		v = view{}
	}
	v["Console"], v["Tab"] = true, "import"
	v["Header"] = service.ImportHeader()
	return v
}

// importProblem is a refused upload as the import page shows it: the
// message and each problem of the file in a stable order (the service's
// field keys mean nothing to the user here, so only the problems are listed).
func importProblem(err error) (string, []string) {
	pr := problemOf(err)
	var e *service.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return pr.Message, nil
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	list := make([]string, len(keys))
	for i, k := range keys {
		list[i] = e.Fields[k]
	}
	return pr.Message, list
}

// failImport shows the upload form again with what is wrong; anything but a
// service error is the error page's.
func (p *Pages) failImport(w http.ResponseWriter, r *http.Request, err error) {
	var e *service.Error
	if !errors.As(err, &e) || e.Code == service.CodeForbidden || e.Code == service.CodeNotFound {
		p.fail(w, r, err)
		return
	}
	msg, list := importProblem(err)
	p.render(w, r, service.HTTPStatus(e.Code), "console_import.html", importView(view{"Problem": msg, "Problems": list}))
}

// importFormat tells the register's format by its content (a browser's file
// name may be anything): XLSX is a zip archive, anything else is read as CSV.
func importFormat(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "xlsx", nil
	case bytes.HasPrefix(data, []byte{0xd0, 0xcf, 0x11, 0xe0}):
		return "", service.Invalid(map[string]string{"file": "这是旧版 Excel（.xls）文件：请在 Excel 或 WPS 中另存为 .xlsx 或 .csv 后再上传"})
	}
	return "csv", nil
}

// importDryRun checks an uploaded register without storing anything and
// shows every row with its result.
func (p *Pages) importDryRun(w http.ResponseWriter, r *http.Request) {
	data, name, err := uploadedRegister(r)
	if err != nil {
		p.failImport(w, r, err)
		return
	}
	p.showDryRun(w, r, http.StatusOK, data, name, "")
}

// uploadedRegister reads the form's file field.
func uploadedRegister(r *http.Request) ([]byte, string, error) {
	noFile := service.Invalid(map[string]string{"file": "请选择要导入的 CSV 或 XLSX 文件"})
	if formValue(r, csrfField); r.MultipartForm == nil {
		return nil, "", noFile
	}
	files := r.MultipartForm.File["file"]
	if len(files) == 0 || files[0].Size == 0 {
		return nil, "", noFile
	}
	if files[0].Size > service.MaxImportBytes {
		return nil, "", service.Errorf(service.CodeTooLarge, "文件不能超过 %d MiB", service.MaxImportBytes>>20)
	}
	f, err := files[0].Open()
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, service.MaxImportBytes+1))
	return data, files[0].Filename, err
}

// importLine is a row of the dry run with its result.
type importLine struct {
	service.ImportRow
	Problems  []service.ImportProblem
	Duplicate *service.ImportDuplicate
}

// dryRun is what the service says of a register, row by row.
type dryRun struct {
	Format  string
	Report  service.ImportReport
	Sheet   service.ImportSheet
	Lines   []importLine
	BadRows int // rows with at least one problem
	New     int // rows that a commit would create
}

func (p *Pages) checkRegister(r *http.Request, data []byte) (dryRun, error) {
	ctx, a := r.Context(), actorOf(r)
	var d dryRun
	var err error
	if d.Format, err = importFormat(data); err != nil {
		return d, err
	}
	if d.Report, err = p.svc.ImportMerchants(ctx, a, a.CountyID, d.Format, bytes.NewReader(data), false); err != nil {
		return d, err
	}
	if d.Sheet, err = service.ReadImportSheet(d.Format, bytes.NewReader(data)); err != nil {
		return d, err
	}
	problems := map[int][]service.ImportProblem{}
	for _, pr := range d.Report.Errors {
		problems[pr.Row] = append(problems[pr.Row], pr)
	}
	dups := map[int]*service.ImportDuplicate{}
	for i := range d.Report.Duplicates {
		dups[d.Report.Duplicates[i].Row] = &d.Report.Duplicates[i]
	}
	d.Lines = make([]importLine, len(d.Sheet.Rows))
	for i, row := range d.Sheet.Rows {
		d.Lines[i] = importLine{ImportRow: row, Problems: problems[row.Row], Duplicate: dups[row.Row]}
	}
	d.BadRows = len(problems)
	d.New = d.Report.Valid - len(d.Report.Duplicates)
	return d, nil
}

// showDryRun renders the dry run of data; with no bad row and something to
// create, the page carries the sealed file for the commit.
func (p *Pages) showDryRun(w http.ResponseWriter, r *http.Request, status int, data []byte, name, message string) {
	d, err := p.checkRegister(r, data)
	if err != nil {
		p.failImport(w, r, err)
		return
	}
	v := importView(view{"Run": d, "Name": name, "Message": message})
	if d.BadRows == 0 && d.New > 0 {
		content, err := packRegister(data)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		if len(content) > maxImportField {
			v["TooLarge"] = true
		} else {
			v["Content"], v["Seal"] = content, p.importSeal(r, data)
		}
	}
	p.render(w, r, status, "console_import.html", v)
}

// importSeal binds a register's content to the account and its county under
// the server's key (the CSRF token of a name derived from them), so a commit
// carries only a file that this account's dry run checked.
func (p *Pages) importSeal(r *http.Request, data []byte) string {
	sum := sha256.Sum256(data)
	a := actorOf(r)
	return p.svc.CSRFToken(fmt.Sprintf("import\x00%d\x00%d\x00%s", a.UserID, a.CountyID, hex.EncodeToString(sum[:])))
}

// packRegister gzips a register into the hidden field's text.
func packRegister(data []byte) (string, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(data); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// unpackRegister reads the hidden field back, at most MaxImportBytes (and one
// more byte, so that a larger one is refused as too large rather than cut).
func unpackRegister(content string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(content)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(zr, service.MaxImportBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > service.MaxImportBytes {
		return nil, service.Errorf(service.CodeTooLarge, "文件不能超过 %d MiB", service.MaxImportBytes>>20)
	}
	return data, nil
}

// createdShop is a merchant an import created.
type createdShop struct {
	Row        int
	MerchantID int64
	Code, Name string
	Road       string
}

// importCommit imports the register the dry-run page carries. The service
// checks every row again: one bad row (the register or the county changed
// since the dry run) and nothing is stored, and the page says what to fix.
func (p *Pages) importCommit(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	content, name := r.PostFormValue("content"), r.PostFormValue("name")
	data, err := unpackRegister(content)
	if err == nil && !hmac.Equal([]byte(r.PostFormValue("seal")), []byte(p.importSeal(r, data))) {
		err = errors.New("seal")
	}
	if err != nil {
		if service.ErrorCode(err) != service.CodeTooLarge {
			err = service.Invalid(map[string]string{"file": "导入内容已失效或被改动，请重新上传文件"})
		}
		p.failImport(w, r, err)
		return
	}
	format, err := importFormat(data)
	if err != nil {
		p.failImport(w, r, err)
		return
	}
	rep, err := p.svc.ImportMerchants(ctx, a, a.CountyID, format, bytes.NewReader(data), true)
	if err != nil {
		p.failImport(w, r, err)
		return
	}
	if len(rep.Errors) > 0 {
		p.showDryRun(w, r, http.StatusBadRequest, data, name,
			fmt.Sprintf("文件有 %d 处错误，未导入任何商户。请按下表修改文件后重新上传。", len(rep.Errors)))
		return
	}
	// What was created: the rows that were new are now, checked again,
	// duplicates of the shops just registered.
	after, err := p.checkRegister(r, data)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	before := map[int]bool{}
	for _, d := range rep.Duplicates {
		before[d.Row] = true
	}
	roads := map[int]string{}
	for _, row := range after.Sheet.Rows {
		roads[row.Row] = row.Road
	}
	var created []createdShop
	for _, d := range after.Report.Duplicates {
		if !before[d.Row] {
			created = append(created, createdShop{Row: d.Row, MerchantID: d.MerchantID, Code: d.Code, Name: d.Name, Road: roads[d.Row]})
		}
	}
	p.render(w, r, http.StatusOK, "console_import_result.html", importView(view{"Report": rep, "Created": created, "Name": name}))
}
