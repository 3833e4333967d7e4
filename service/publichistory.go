package service

import (
	"context"
	"slices"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// The states of an entry on the public plaque page.
const (
	EntryRecorded    = "recorded"     // stands
	EntryReversed    = "reversed"     // 已撤销: reversed by the office or by an accepted appeal
	EntryUnderAppeal = "under_appeal" // 申诉中: the merchant's appeal awaits its decision
)

// PublicHistory is the shop's deductions and bonuses that the plaque page
// shows: those of the last policy.PublicHistoryMonths months (see
// policy.PublicUntil), newest first. Older ones leave the page by the clock
// alone and stay in the ledger and on the merchant's own pages. A history
// is never changed once made: profiles share it, and the kept plaque page
// (service/web/plaque_cache.go) compares it by pointer.
type PublicHistory struct {
	Months  int
	Entries []PublicEntry
	// Until is when the next listed entry leaves the page (the oldest one's
	// PublicUntil); zero when none is listed. A profile is not reused from
	// then on.
	Until time.Time
}

// PublicEntry is one line of the public history: the day, the item, the
// signed points and the state. Never the officer, the note or the evidence.
type PublicEntry struct {
	At       time.Time // when it happened (the page shows the day)
	RuleCode string
	Item     string // the catalogue item's name
	Points   int    // signed: −3 for a deduction, +2 for a bonus
	State    string // EntryRecorded, EntryReversed or EntryUnderAppeal
}

// Bonus tells a bonus from a deduction.
func (e PublicEntry) Bonus() bool { return e.Points > 0 }

// fresh reports whether h still lists what the page should show at now.
func (h *PublicHistory) fresh(now time.Time) bool {
	return h == nil || h.Until.IsZero() || now.Before(h.Until)
}

// sameAs reports whether h and o list the same entries.
func (h *PublicHistory) sameAs(o *PublicHistory) bool {
	if h == nil || o == nil {
		return h == o
	}
	return h.Months == o.Months && h.Until.Equal(o.Until) && slices.EqualFunc(h.Entries, o.Entries, func(a, b PublicEntry) bool {
		return a.At.Equal(b.At) && a.RuleCode == b.RuleCode && a.Item == b.Item && a.Points == b.Points && a.State == b.State
	})
}

// publicHistory reads the entries of merchantID public at now.
func (s *Service) publicHistory(ctx context.Context, merchantID int64, now time.Time) (*PublicHistory, error) {
	h := &PublicHistory{Months: s.policy.PublicHistoryMonths}
	cycles := s.policy.PublicCycles(now)
	names := make([]string, len(cycles))
	for i, c := range cycles {
		names[i] = c.String()
	}
	rows, err := s.db.PublicEntriesOf(ctx, merchantID, names)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		until := s.policy.PublicUntil(r.OccurredAt)
		if !now.Before(until) {
			continue
		}
		e := PublicEntry{At: r.OccurredAt, RuleCode: r.RuleCode, Points: r.Points, State: EntryRecorded}
		if it, ok := s.policy.Item(r.RuleCode); ok {
			e.Item = it.Name
		}
		switch {
		case r.Reversed:
			e.State = EntryReversed
		case r.Appeal == models.AppealPending:
			e.State = EntryUnderAppeal
		}
		h.Entries = append(h.Entries, e)
		if h.Until.IsZero() || until.Before(h.Until) {
			h.Until = until
		}
	}
	return h, nil
}

// publicDay names the day of now in the policy's timezone: entries leave the
// public page at the start of a day, so reads of one day agree.
func publicDay(p *policy.Policy, now time.Time) string {
	return now.In(p.Location()).Format(time.DateOnly)
}
