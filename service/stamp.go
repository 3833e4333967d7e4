package service

import (
	"context"

	"github.com/menqian/menqian/models"
)

// DataStamp tells whether anything a county page can show may have changed
// in the database: every write to what the pages read (shops, scores,
// inspections, notices, appeals, roads and their officers, counties and
// their accounts) bumps its county's change version in the writing
// transaction (see countyview.go), versions only grow, counties are never
// deleted, closing a cycle adds a row to closed_cycles, and the audit log
// only grows. So two stamps
// are equal only if no such write committed between them, on any instance.
type DataStamp struct {
	Versions int64 // the sum of the counties' change versions
	Counties int   // how many counties there are
	Closed   int64 // how many cycles were closed
	Audit    int64 // the newest audit event's id
}

// DataStamp reads the stamp as of a query sent after the call (shared with
// concurrent readers, as the views' versions are).
func (s *Service) DataStamp(ctx context.Context) (DataStamp, error) {
	vs, err := s.versions.read(ctx)
	if err != nil {
		return DataStamp{}, err
	}
	var st DataStamp
	for id, v := range vs {
		switch id {
		case models.ClosedCyclesKey:
			st.Closed = v
			continue
		case models.AuditEventsKey:
			st.Audit = v
			continue
		}
		st.Versions += v
		st.Counties++
	}
	return st, nil
}
