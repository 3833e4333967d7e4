package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/menqian/menqian/models"
)

// Error codes. The HTTP layer maps each to one status (see httpapi/respond.go).
const (
	CodeInvalid        = "invalid_input"          // 400
	CodeUnauthorized   = "unauthorized"           // 401
	CodeForbidden      = "forbidden"              // 403
	CodeNotFound       = "not_found"              // 404
	CodeDuplicate      = "duplicate"              // 409
	CodeConflict       = "conflict"               // 409
	CodeRevoked        = "revoked"                // 410: a revoked credit certificate
	CodeCycleClosed    = "cycle_closed"           // 409
	CodeTooLarge       = "payload_too_large"      // 413
	CodeKeyReused      = "idempotency_key_reused" // 422
	CodeRateLimited    = "rate_limited"           // 429
	CodeInternal       = "internal"               // 500
	CodeUnavailable    = "unavailable"            // 503
	CodeUnsupportedMed = "unsupported_media_type" // 415
)

// Error is the one error type business code returns to callers. Message is
// safe to show users (zh-CN); Err, when set, is the internal cause for the log.
type Error struct {
	Code       string
	Message    string
	Fields     map[string]string
	RetryAfter int // seconds, for rate limits and outages
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a code and a user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is a 400 with per-field problems.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: CodeInvalid, Message: "输入有误", Fields: fields}
}

// ErrorCode returns the code of err, CodeInternal for foreign errors.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

var (
	errForbidden = Errorf(CodeForbidden, "无权执行此操作")
	errNotFound  = Errorf(CodeNotFound, "对象不存在或不可见")
)

// fieldErrors collects per-field problems in input order.
type fieldErrors map[string]string

func (f fieldErrors) add(field, problem string) {
	if _, ok := f[field]; !ok {
		f[field] = problem
	}
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f)
}

// HTTPStatus is the one table from error codes to HTTP statuses, shared by
// the JSON API and the pages; an unknown code is 500.
func HTTPStatus(code string) int {
	switch code {
	case CodeInvalid:
		return 400
	case CodeUnauthorized:
		return 401
	case CodeForbidden:
		return 403
	case CodeNotFound:
		return 404
	case CodeDuplicate, CodeConflict, CodeCycleClosed:
		return 409
	case CodeRevoked:
		return 410
	case CodeTooLarge:
		return 413
	case CodeUnsupportedMed:
		return 415
	case CodeKeyReused:
		return 422
	case CodeRateLimited:
		return 429
	case CodeUnavailable:
		return 503
	}
	return 500
}

// Seconds a client is asked to wait (Retry-After) before retrying when the
// database is down or a request ran out of time.
const (
	outageRetryAfter   = 5
	deadlineRetryAfter = 2
)

// Unavailable turns an error that is not the service's own into the 503 it
// deserves, or returns nil: the database cannot be reached (down, restarting,
// dropping connections), or the request's own deadline passed while it
// waited (a locked table, a saturated pool). A client that left is neither:
// its context is canceled, not past its deadline.
func Unavailable(err error) *Error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeUnavailable, Message: "服务繁忙，请稍后重试", RetryAfter: deadlineRetryAfter, Err: err}
	case models.IsUnavailable(err):
		return &Error{Code: CodeUnavailable, Message: "数据库暂时不可用，请稍后重试", RetryAfter: outageRetryAfter, Err: err}
	}
	return nil
}
