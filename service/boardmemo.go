package service

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/menqian/menqian/service/leaderboard"
)

// boardMemo remembers, for each Redis page asked for, the last lines answered
// with their rated stars. While the board answers the same entries (it read
// them afresh: the memo never skips the board) and the county views the stars
// came from are still the current ones, the many readers of one unchanged
// page share that one copy: no stars looked up, no lines built.
type boardMemo struct {
	mu sync.Mutex
	m  map[boardKey]*memoPage
}

type boardKey struct {
	scope         leaderboard.Scope
	cycle         string
	limit, offset int
}

// memoPage is a page's lines as answered: shared, so never changed.
type memoPage struct {
	entries []leaderboard.Entry
	total   int
	items   []RankedMerchant
	views   []*countyView // the views the stars were read from
	encoded atomic.Pointer[[]byte]
}

// Encoded returns encode(p). Callers that share the page's lines share one
// encoding too: encode must depend on p alone and be the same function at
// every call (the API's one JSON writer).
func (p BoardPage) Encoded(encode func(BoardPage) []byte) []byte {
	if p.memo == nil {
		return encode(p)
	}
	if b := p.memo.encoded.Load(); b != nil {
		return *b
	}
	b := encode(p)
	p.memo.encoded.Store(&b)
	return b
}

// maxMemoPages bounds the pages remembered; past it they are forgotten at once.
const maxMemoPages = 1024

func newBoardMemo() *boardMemo { return &boardMemo{m: map[boardKey]*memoPage{}} }

// lines returns the remembered lines of k when the board's answer is still
// entries and total and the stars were read from the same views (a view is
// replaced, never changed, when anything of its county changes).
func (b *boardMemo) lines(k boardKey, entries []leaderboard.Entry, total int, views []*countyView) *memoPage {
	b.mu.Lock()
	p := b.m[k]
	b.mu.Unlock()
	if p == nil || p.total != total || !slices.Equal(p.views, views) || !slices.Equal(p.entries, entries) {
		return nil
	}
	return p
}

func (b *boardMemo) put(k boardKey, p *memoPage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) >= maxMemoPages {
		clear(b.m)
	}
	b.m[k] = p
}
