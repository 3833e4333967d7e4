package models

import (
	"log/slog"
	"strings"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// TestDriverLogIsStructured: the MySQL driver's own lines go through slog (as
// JSON here), never as plain lines on stderr.
func TestDriverLogIsStructured(t *testing.T) {
	var b strings.Builder
	drv := driverLog{slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	var _ mysqldrv.Logger = drv
	drv.Print("packets.go:58 unexpected EOF")
	if got := b.String(); !strings.HasPrefix(got, "{") || !strings.Contains(got, `"msg":"mysql driver"`) || !strings.Contains(got, "unexpected EOF") {
		t.Errorf("driver line logged as %q", got)
	}
}
