package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// A request whose client left is not a server error: it is logged at INFO
// ("request abandoned") and recorded as 499, never as a 500 at ERROR.
func TestAbandonedRequestIsNotAnError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cancel    bool
		err       error
		status    int
		level, in string
	}{
		{"client left", true, fmt.Errorf("read merchants: %w", context.Canceled), 499, "INFO", "request abandoned"},
		{"a real failure", false, errors.New("disk on fire"), 500, "ERROR", "request failed"},
		{"canceled, but not this request", false, context.Canceled, 500, "ERROR", "request failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			a := &API{log: slog.New(slog.NewTextHandler(&logs, nil))}
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			c.Request = httptest.NewRequest("GET", "/api/v1/merchants", nil).WithContext(ctx)
			a.fail(c, tc.err)
			if w.Code != tc.status || !strings.Contains(logs.String(), "level="+tc.level) || !strings.Contains(logs.String(), tc.in) {
				t.Errorf("status %d, log %q; want %d and %s %q", w.Code, logs.String(), tc.status, tc.level, tc.in)
			}
		})
	}
}
