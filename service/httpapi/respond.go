package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	RequestID string            `json:"request_id"`
	Fields    map[string]string `json:"fields,omitempty"`
}

// fail is the one error writer: a service error goes out with its status and
// message; anything else is logged here, once, and answered with a generic 500.
func (a *API) fail(c *gin.Context, err error) {
	var e *service.Error
	if ctx := c.Request.Context(); ctx.Err() == context.Canceled && errors.Is(err, context.Canceled) {
		// The client left (or the server is stopping): nobody reads an answer.
		a.log.InfoContext(ctx, "request abandoned", "request_id", requestID(c), "route", c.FullPath(), "err", err)
		c.AbortWithStatus(499) // nginx's "client closed request", for the metrics
		return
	}
	switch {
	case errors.As(err, &e):
		if e.Err != nil && e.Code != service.CodeNotFound {
			a.log.InfoContext(c.Request.Context(), "request refused", "request_id", requestID(c), "code", e.Code, "err", e.Err)
		}
	case service.Unavailable(err) != nil:
		// The database is down or too slow: the client may retry later.
		e = service.Unavailable(err)
		a.log.WarnContext(c.Request.Context(), "request unavailable", "request_id", requestID(c), "route", c.FullPath(), "err", err)
	default:
		a.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "route", c.FullPath(), "err", err)
		e = service.Errorf(service.CodeInternal, "服务器内部错误，请稍后重试")
	}
	status := service.HTTPStatus(e.Code)
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	c.Set(ctxErrorCode, e.Code)
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, RequestID: requestID(c), Fields: e.Fields}})
}

// respond writes v with status, or the error.
func respond[T any](a *API, c *gin.Context, status int, v T, err error) {
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(status, v)
}

// maxBody bounds JSON request bodies.
const maxBody = 64 << 10

// bind decodes a JSON body strictly: bounded size, one object (never null,
// an array or a scalar), no unknown fields (no mass assignment), type errors
// named by field. Any Content-Type is read as JSON, so a plain `curl -d`
// works.
func (a *API) bind(c *gin.Context, dst any) bool {
	body, ok := a.readBody(c)
	return ok && a.decode(c, body, dst)
}

// noBody reads the body of an endpoint that takes none: empty, or an empty
// JSON object; anything else (null, an array, a field) is refused as bind
// refuses it.
func (a *API) noBody(c *gin.Context) bool {
	body, ok := a.readBody(c)
	var none struct{}
	return ok && (len(bytes.TrimSpace(body)) == 0 || a.decode(c, body, &none))
}

// readBody reads a JSON body of at most maxBody bytes.
func (a *API) readBody(c *gin.Context) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		a.fail(c, service.Errorf(service.CodeTooLarge, "请求体过大（最多 %d KiB）", maxBody>>10))
		return nil, false
	}
	if err != nil {
		a.fail(c, service.Invalid(map[string]string{"body": "读取请求体失败"}))
		return nil, false
	}
	return body, true
}

func (a *API) decode(c *gin.Context, body []byte, dst any) bool {
	if err := decodeStrict(body, dst); err != nil {
		a.fail(c, err)
		return false
	}
	return true
}

func decodeStrict(body []byte, dst any) error {
	// A request body is one JSON object. encoding/json reads null into a
	// struct as nothing at all, so `null` would act as `{}` (a notice marked
	// rectified by a body of null); arrays, strings and numbers are refused
	// here too, before any field is looked at.
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] != '{' {
		return service.Invalid(map[string]string{"body": "请求体应为 JSON 对象"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		// Anything after the one object, even a stray "}" (which dec.More
		// would let through), is an error.
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return service.Invalid(map[string]string{field: fmt.Sprintf("类型错误（应为 %s）", jsonType(te.Type.String()))})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return service.Invalid(map[string]string{f: "未知字段"})
	case errors.Is(err, io.EOF):
		return service.Invalid(map[string]string{"body": "请求体为空"})
	}
	if strings.Contains(err.Error(), "parsing time") {
		return service.Invalid(map[string]string{"inspected_at": "时间格式应为 RFC 3339，如 2026-11-12T09:30:00+08:00"})
	}
	return service.Invalid(map[string]string{"body": "JSON 格式错误"})
}

func jsonType(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "数字"
	case strings.Contains(goType, "string"):
		return "字符串"
	case strings.Contains(goType, "bool"):
		return "布尔值"
	case strings.HasPrefix(goType, "[]"):
		return "数组"
	}
	return "对象"
}

// formFile reads the multipart field `file` of a body bounded to limit bytes
// (plus room for the form itself); what names the expected file in the error.
func (a *API) formFile(c *gin.Context, limit int64, what string) (*multipart.FileHeader, multipart.File, bool) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+64<<10)
	fh, err := c.FormFile("file")
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		a.fail(c, service.Errorf(service.CodeTooLarge, "文件不能超过 %d MiB", limit>>20))
		return nil, nil, false
	case err != nil:
		a.fail(c, service.Invalid(map[string]string{"file": "请以 multipart/form-data 字段 file 上传" + what}))
		return nil, nil, false
	}
	f, err := fh.Open()
	if err != nil {
		a.fail(c, err)
		return nil, nil, false
	}
	return fh, f, true
}

// idParam parses a positive integer path parameter; a bad one is 404 (no such resource).
func (a *API) idParam(c *gin.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		a.fail(c, service.Errorf(service.CodeNotFound, "对象不存在或不可见"))
		return 0, false
	}
	return id, true
}

// queryInt reads an optional integer query parameter.
func queryInt(c *gin.Context, name string, f map[string]string) int64 {
	v := c.Query(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		f[name] = "应为非负整数"
	}
	return n
}

// paging reads limit and offset. An absent limit is the default page; an
// explicit limit=0 is out of range like any other, not a silent default.
func paging(c *gin.Context, f map[string]string) service.Paging {
	p := service.Paging{Limit: int(queryInt(c, "limit", f)), Offset: int(queryInt(c, "offset", f))}
	if c.Query("limit") != "" && p.Limit == 0 && f["limit"] == "" {
		f["limit"] = fmt.Sprintf("应在 1 到 %d 之间", service.MaxPage)
	}
	return p
}

func (a *API) checkQuery(c *gin.Context, f map[string]string) bool {
	if len(f) > 0 {
		a.fail(c, service.Invalid(f))
		return false
	}
	return true
}

// list writes the paging envelope every list uses.
type list[T any] struct {
	Items  []T   `json:"items"`
	Total  int64 `json:"total"`
	Limit  int   `json:"limit,omitempty"`
	Offset int   `json:"offset"`
}
