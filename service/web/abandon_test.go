package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/menqian/menqian/service/policy"
)

// A page whose visitor left is not a server error: it is logged at INFO
// ("page abandoned") and recorded as 499, never as a 500 at ERROR.
func TestAbandonedPageIsNotAnError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		cancel    bool
		err       error
		status    int
		level, in string
	}{
		{"visitor left", true, fmt.Errorf("county view: %w", context.Canceled), 499, "INFO", "page abandoned"},
		{"a real failure", false, errors.New("disk on fire"), 500, "ERROR", "page failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			p := &Pages{log: slog.New(slog.NewTextHandler(&logs, nil)), views: newViews(policy.Default())}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			w := httptest.NewRecorder()
			p.fail(w, httptest.NewRequest("GET", "/console", nil).WithContext(ctx), tc.err)
			if w.Code != tc.status || !strings.Contains(logs.String(), "level="+tc.level) || !strings.Contains(logs.String(), tc.in) {
				t.Errorf("status %d, log %q; want %d and %s %q", w.Code, logs.String(), tc.status, tc.level, tc.in)
			}
		})
	}
}
