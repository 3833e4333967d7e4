package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/httpapi"
)

// The OpenAPI description (openapi.json, served at /api/v1/openapi.json) is
// kept true here: TestOpenAPICoversEveryRoute matches it with gin's route
// table, and env.send hands every answer of every test of this package to
// checkAnswer. kin-openapi loads and validates the document, routes each
// request to its operation and checks the status and the headers
// (openapi3filter); the body is checked against its schema as JSON Schema
// 2020-12, as OpenAPI 3.1 has it, by the validator kin-openapi uses
// (santhosh-tekuri/jsonschema), with each schema compiled once: kin-openapi
// compiles it again for every answer, which made the package's tests a third
// slower.

// openAPIFile is the description, as embedded in the binary.
const openAPIFile = "openapi.json"

// openAPIURL names the document for the schema compiler.
const openAPIURL = "file:///menqian/openapi.json"

// openAPIChecker validates answers against the description.
type openAPIChecker struct {
	doc      *openapi3.T
	raw      any // the document as JSON, where schemas are found by pointer
	router   routers.Router
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // compiled, by JSON pointer
}

// openAPI loads, validates and routes the description once per test binary.
var openAPI = sync.OnceValues(func() (*openAPIChecker, error) {
	data, err := os.ReadFile(openAPIFile)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", openAPIFile, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	compiler.AssertFormat()
	if err := compiler.AddResource(openAPIURL, raw); err != nil {
		return nil, err
	}
	c := &openAPIChecker{doc: doc, raw: raw, router: router, compiler: compiler, schemas: map[string]*jsonschema.Schema{}}
	for _, name := range []string{"Error", "Open311Errors"} {
		if _, err := c.schema("/components/schemas/" + name); err != nil {
			return nil, err
		}
	}
	return c, nil
})

// schema returns the schema at a JSON pointer of the document, compiled.
func (c *openAPIChecker) schema(ptr string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.schemas[ptr]; ok {
		return s, nil
	}
	s, err := c.compiler.Compile(openAPIURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	c.schemas[ptr] = s
	return s, nil
}

// at follows a JSON pointer (its unescaped tokens) through the document.
func (c *openAPIChecker) at(tokens ...string) map[string]any {
	v := c.raw
	for _, tok := range tokens {
		m, _ := v.(map[string]any)
		v = m[tok]
	}
	m, _ := v.(map[string]any)
	return m
}

// pointer escapes tokens into a JSON pointer.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, tok := range tokens {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(tok))
	}
	return b.String()
}

// checkAnswer fails the test when an answer does not match the description:
// a described operation's answer by its status, headers, media type and
// body; any other (an unknown path or method) must be 404 or 405 in the
// error format.
func checkAnswer(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	c, err := openAPI()
	if err != nil {
		t.Errorf("%s: %v", openAPIFile, err)
		return
	}
	if err := c.check(req, status, header, body); err != nil {
		t.Errorf("%s %s answered %d, which does not match %s: %v\nbody: %.500s", req.Method, req.URL.RequestURI(), status, openAPIFile, err, body)
	}
}

func (c *openAPIChecker) check(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return c.checkUnrouted(req, status, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err
	}
	if req.Method == http.MethodHead || status == http.StatusNotModified {
		return nil
	}
	return c.checkBody(route.Path, strings.ToLower(route.Method), status, header, body)
}

// checkBody checks an answer's media type against those its operation
// describes for the status, and its body against the media type's schema
// (the described schemas are all JSON).
func (c *openAPIChecker) checkBody(path, method string, status int, header http.Header, body []byte) error {
	tokens := []string{"paths", path, method, "responses", strconv.Itoa(status)}
	resp := c.at(tokens...)
	if ref, ok := resp["$ref"].(string); ok {
		tokens = strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		resp = c.at(tokens...)
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("a body of %d bytes where none is described", len(body))
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("Content-Type %q: %w", header.Get("Content-Type"), err)
	}
	media, ok := content[mt].(map[string]any)
	if !ok {
		return fmt.Errorf("Content-Type %q is not described for %d", mt, status)
	}
	if _, ok := media["schema"]; !ok {
		return nil
	}
	return c.validate(pointer(append(tokens, "content", mt, "schema")...), body)
}

// validate checks a JSON body against the schema at a pointer.
func (c *openAPIChecker) validate(ptr string, body []byte) error {
	s, err := c.schema(ptr)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}

// checkUnrouted checks the answer to a path or method the description does
// not have: 404 or 405, in the error format of the API it falls under.
func (c *openAPIChecker) checkUnrouted(req *http.Request, status int, body []byte) error {
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		return fmt.Errorf("the description has no operation %s %s, yet it was answered %d", req.Method, req.URL.Path, status)
	}
	if strings.HasPrefix(req.URL.Path, "/open311/") {
		return c.validate("/components/schemas/Open311Errors", body)
	}
	return c.validate("/components/schemas/Error", body)
}

// ginPath turns a described path into gin's template: {name} is :name, and
// Open311's {name}.json and {name}.xml are the one :file their handler splits.
func ginPath(p string) string {
	p = regexp.MustCompile(`\{[a-z_]+\}\.(json|xml)$`).ReplaceAllString(p, ":file")
	return regexp.MustCompile(`\{([a-z_]+)\}`).ReplaceAllString(p, ":$1")
}

// TestOpenAPICoversEveryRoute: every route of gin's table is described, and
// every described operation is routed, so the description cannot drift from
// routes.go.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	c, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	engine, ok := httpapi.New(httpapi.Options{Registry: prometheus.NewRegistry()}).(*gin.Engine)
	if !ok {
		t.Fatal("handler is not a gin engine")
	}
	routed := map[string]bool{}
	for _, r := range engine.Routes() {
		routed[r.Method+" "+r.Path] = true
	}
	described := map[string]bool{}
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+ginPath(path)] = true
		}
	}
	var missing []string
	for k := range routed {
		if !described[k] {
			missing = append(missing, k+" (routed, not in "+openAPIFile+")")
		}
	}
	for k := range described {
		if !routed[k] {
			missing = append(missing, k+" (in "+openAPIFile+", not routed)")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("routes.go and %s disagree:\n  %s", openAPIFile, strings.Join(missing, "\n  "))
	}
	if len(routed) < 70 {
		t.Errorf("only %d routes: is the table read?", len(routed))
	}
}

// TestOpenAPIServed: GET /api/v1/openapi.json is the embedded description,
// public and cacheable (ETag, 304), an OpenAPI 3.1 document that kin-openapi
// loads; and the checker refuses answers that do not match it, so the
// validation of every test's answers cannot pass vacuously.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Dialects(t)[0])
	r := e.must(200, "GET", "/api/v1/openapi.json", "", nil)
	want, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Body, want) {
		t.Errorf("served %d bytes, want %s as it is (%d bytes)", len(r.Body), openAPIFile, len(want))
	}
	if got := r.JSON["openapi"]; got != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", got)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control = %q, want public with a max-age", cc)
	}
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if again := e.do("GET", "/api/v1/openapi.json", "", nil, "If-None-Match", etag); again.Status != http.StatusNotModified || len(again.Body) != 0 {
		t.Errorf("If-None-Match: %d with %d bytes, want 304 and no body", again.Status, len(again.Body))
	}
	// A token or a cookie changes nothing: the description is public.
	if withToken := e.must(200, "GET", "/api/v1/openapi.json", e.admin, nil); !bytes.Equal(withToken.Body, want) {
		t.Error("a caller with a token gets another document")
	}

	c, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *http.Request {
		req, err := http.NewRequest("GET", e.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Request-Id": {"r1"}}
	for _, bad := range []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
	}{
		{"a field of the wrong type", get("/api/v1/me"), 200, jsonHeader, `{"id":"1","username":"admin","role":"city_admin","county_id":null,"merchant_id":null,"disabled":false}`},
		{"a required field missing", get("/api/v1/me"), 200, jsonHeader, `{"id":1,"role":"city_admin","county_id":null,"merchant_id":null,"disabled":false}`},
		{"a value outside its enum", get("/api/v1/me"), 200, jsonHeader, `{"id":1,"username":"admin","role":"mayor","county_id":null,"merchant_id":null,"disabled":false}`},
		{"a status not described", get("/api/v1/me"), 418, jsonHeader, `{}`},
		{"an error not in the error format", get("/api/v1/me"), 401, jsonHeader, `{"message":"请先登录"}`},
		{"an error without X-Request-ID", get("/api/v1/me"), 401, http.Header{"Content-Type": {"application/json"}}, `{"error":{"code":"unauthorized","message":"请先登录","request_id":"r1"}}`},
		{"a media type not described", get("/api/v1/me"), 200, http.Header{"Content-Type": {"text/html"}}, `<p>`},
		{"a bare array for a list", get("/api/v1/counties"), 200, jsonHeader, `[]`},
		{"an unknown path not answered 404", get("/api/v1/nothing"), 200, jsonHeader, `{}`},
		{"an unknown path's 404 not in the error format", get("/api/v1/nothing"), 404, jsonHeader, `{"error":"not found"}`},
		{"Open311 services as an object", get("/open311/v2/services.json"), 200, jsonHeader, `{"services":[]}`},
		{"an Open311 request with a numeric id", get("/open311/v2/requests/R7K2.json"), 200, jsonHeader, `[{"service_request_id":7,"status":"open"}]`},
		{"Open311 in the API's error format", get("/open311/v2/services/HJWS-01.json"), 404, jsonHeader, `{"error":{"code":"not_found","message":"x","request_id":"r1"}}`},
	} {
		if err := c.check(bad.req, bad.status, bad.header, []byte(bad.body)); err == nil {
			t.Errorf("%s: the checker accepts %d %s", bad.name, bad.status, bad.body)
		}
	}
	if err := c.check(get("/api/v1/me"), 200, jsonHeader, []byte(`{"id":1,"username":"admin","role":"city_admin","county_id":null,"merchant_id":null,"disabled":false}`)); err != nil {
		t.Errorf("the checker refuses a good answer: %v", err)
	}
}

// TestOpenAPIOperationIDs: every operation has a unique operationId, a
// summary and a tag, and every error answer it describes is the shared
// error format, so clients generated from the description are usable.
func TestOpenAPIOperationIDs(t *testing.T) {
	t.Parallel()
	c, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: operationId %q, summary %q, tags %v", where, op.OperationID, op.Summary, op.Tags)
			}
			if prev, dup := seen[op.OperationID]; dup {
				t.Errorf("operationId %q of %s is also %s's", op.OperationID, where, prev)
			}
			seen[op.OperationID] = where
			for status, resp := range op.Responses.Map() {
				mt := resp.Value.Content.Get("application/json")
				if status[0] < '4' || mt == nil || strings.HasPrefix(path, "/open311/") {
					continue
				}
				if mt.Schema.Value != c.doc.Components.Schemas["Error"].Value {
					t.Errorf("%s %s: not the shared Error schema", where, status)
				}
			}
		}
	}
}
