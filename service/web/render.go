package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

//go:embed templates/*.html static/*
var files embed.FS

// views are the page templates, each parsed with the one layout.
type views struct {
	pages map[string]*template.Template
}

func newViews(pol *policy.Policy) *views {
	loc := pol.Location()
	funcs := template.FuncMap{
		// Dates in Chinese form, in the policy's timezone (Asia/Shanghai).
		"date":     func(t time.Time) string { return t.In(loc).Format("2006年1月2日") },
		"datetime": func(t time.Time) string { return t.In(loc).Format("2006年1月2日 15:04") },
		"month":    monthName,
		"stars":    func(n int) string { return strings.Repeat("★", n) + strings.Repeat("☆", max(0, 5-n)) },
		"signed": func(n int) string {
			if n > 0 {
				return "+" + strconv.Itoa(n)
			}
			if n < 0 {
				return "−" + strconv.Itoa(-n)
			}
			return "0"
		},
		"ruleName": func(code string) string {
			if it, ok := pol.Item(code); ok {
				return it.Name
			}
			return code
		},
		"inc": func(n int) int { return n + 1 },
		"seq": func(n int) []int { return make([]int, n) },
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
	}
	maps.Copy(funcs, dashboardFuncs(pol))
	v := &views{pages: map[string]*template.Template{}}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue // the layout and partials (_*.html) go into every page
		}
		v.pages[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/_*.html", n))
	}
	return v
}

// monthName writes a cycle as 2026年12月.
func monthName(c any) string {
	var cy policy.Cycle
	switch v := c.(type) {
	case policy.Cycle:
		cy = v
	case string:
		var err error
		if cy, err = policy.ParseCycle(v); err != nil {
			return v
		}
	default:
		return fmt.Sprint(c)
	}
	return fmt.Sprintf("%d年%d月", cy.Year, int(cy.Month))
}

// view is the data of one page; render adds what every page needs.
type view map[string]any

// render writes a page into memory first, so a template error is an honest
// 500 instead of half a page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data view) {
	if data == nil {
		data = view{}
	}
	data["Nonce"] = nonceOf(r)
	if s := sessionOf(r); s != nil {
		data["Me"] = s.User
		data["CSRF"] = p.svc.CSRFToken(s.ID)
	}
	t, ok := p.views.pages[name]
	if !ok {
		p.fail(w, r, fmt.Errorf("no template %s", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		p.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// wantsJSON: the inspection form's fetches are answered in the API's JSON.
func wantsJSON(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/inspect/") }

// statusClientClosed is what the metrics record for a request whose client
// left before its answer (nginx's 499).
const statusClientClosed = 499

// fail is the one error writer of the pages: a service error becomes its
// status and Chinese message on the error page (or the API's JSON error for
// the inspection form's fetches); anything else is logged once and shown as
// a generic 500.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *service.Error
	if r.Context().Err() == context.Canceled && errors.Is(err, context.Canceled) {
		// The visitor left (or the server is stopping): nobody reads an answer.
		p.log.InfoContext(r.Context(), "page abandoned", "request_id", requestIDOf(r), "path", r.URL.Path, "err", err)
		w.WriteHeader(statusClientClosed)
		return
	}
	switch {
	case errors.As(err, &e):
	case service.Unavailable(err) != nil:
		// The database is down or too slow: the visitor may try again later.
		e = service.Unavailable(err)
		p.log.WarnContext(r.Context(), "page unavailable", "request_id", requestIDOf(r), "path", r.URL.Path, "err", err)
	default:
		p.log.ErrorContext(r.Context(), "page failed", "request_id", requestIDOf(r), "path", r.URL.Path, "err", err)
		e = service.Errorf(service.CodeInternal, "服务器内部错误，请稍后重试")
	}
	status := service.HTTPStatus(e.Code)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if wantsJSON(r) {
		type detail struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields,omitempty"`
		}
		writeJSON(w, status, struct {
			Error detail `json:"error"`
		}{detail{e.Code, e.Message, fieldNames(e.Fields)}})
		return
	}
	p.render(w, r, status, "error.html", view{"Status": status, "Message": e.Message, "Fields": fieldNames(e.Fields)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fieldLabels name the fields of service errors in Chinese: users read
// "照片：…", never "items[0].points".
var fieldLabels = map[string]string{
	"reason": "申诉理由", "note": "说明", "photos": "照片", "file": "照片", "photo": "照片", "entry_id": "扣分记录",
	"rule_code": "事项", "due_days": "整改期限", "items": "巡查事项", "merchant_id": "商户", "qr_token": "门牌码",
	"inspected_at": "巡查时间", "username": "用户名", "password": "密码", "body": "提交内容", "lat": "位置", "lng": "位置",
	"decision": "处理结果", "role": "账号类型", "display_name": "姓名", "disabled": "账号状态",
	"name": "名称", "town": "镇/街道", "length_m": "长度", "uscc": "统一社会信用代码", "category": "经营类别", "owner_name": "负责人",
	"phone": "联系电话", "address": "地址", "status": "状态", "road_id": "道路", "officer_ids": "责任人", "county_id": "区县",
	"star": "星级", "sort": "排序", "page": "页码", "q": "搜索内容",
	"kind": "操作类型",
}

// listLabels name an element of a list field: items[2] is "第3项巡查事项".
var listLabels = map[string]string{"items": "项巡查事项", "photos": "张照片"}

// fieldNames turns field keys into Chinese labels: items[2].points is
// "第3项巡查事项的分值".
func fieldNames(f map[string]string) map[string]string {
	if len(f) == 0 {
		return nil
	}
	out := make(map[string]string, len(f))
	for k, v := range f {
		out[fieldLabel(k)] = v
	}
	return out
}

func fieldLabel(k string) string {
	if l, ok := fieldLabels[k]; ok {
		return l
	}
	if name, rest, ok := strings.Cut(k, "["); ok {
		idx, sub, _ := strings.Cut(rest, "]")
		n, err := strconv.Atoi(idx)
		label := fieldLabels[name]
		if err != nil || label == "" {
			return "提交内容"
		}
		out := fmt.Sprintf("第%d%s", n+1, listLabels[name])
		switch strings.TrimPrefix(sub, ".") {
		case "points":
			out += "的分值"
		case "rule_code":
			out += "的事项"
		case "note":
			out += "的备注"
		}
		return out
	}
	return "提交内容"
}

// staticFiles serves the embedded CSS and scripts; they change only with the
// binary, so browsers revalidate them cheaply.
func staticFiles(root fs.FS) http.Handler {
	fsrv := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
