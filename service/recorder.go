package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Group commit of inspections (成批提交).
//
// An inspection's transaction costs little per row and much per statement and
// per commit. The recorder lets at most `lanes` recording transactions run at
// a time and gives each one every inspection that queued while the others
// ran: one locking read, one write per table and one commit for all of them.
// When officers are few a batch is a single inspection and nothing waits;
// under load the batches grow by themselves, with no timer.
//
// Inside a batch every inspection is decided on its own, in arrival order, on
// the state the earlier ones left (two inspections of one shop in a batch
// tally one after the other). One that is refused (a closed shop, a photo of
// another county, or one an earlier inspection made another shop's evidence)
// is simply left out. If the transaction fails as a whole
// (a reused idempotency key, say), every inspection of the batch runs again
// alone, so a failure lands on its own request only.

// Recorder sizes.
const (
	recordLanesMySQL  = 4  // concurrent recording transactions on MySQL/MariaDB
	recordLanesSQLite = 1  // SQLite has one writer anyway
	recordMaxBatch    = 64 // inspections per transaction
	recordTimeout     = 30 * time.Second
)

// recording is one admitted-for-processing inspection waiting for its batch.
type recording struct {
	ctx        context.Context
	merchantID int64
	cycle      policy.Cycle
	entries    []models.LedgerEntry // merchant unset
	photos     []int64
	row        models.Inspection // without merchant-dependent response
	delta      int
	admit      func(models.RecordLock) error

	result InspectionResult
	err    error
	done   chan struct{} // closed by the batch that finished it
}

// recorder queues recordings and runs them in batches, at most lanes at once.
type recorder struct {
	lanes, maxBatch int
	run             func([]*recording) // runs one batch and finishes every recording in it

	mu      sync.Mutex
	queue   []*recording
	running int
}

func newRecorder(lanes, maxBatch int, run func([]*recording)) *recorder {
	return &recorder{lanes: lanes, maxBatch: maxBatch, run: run}
}

// record queues r and waits until its batch has finished it, or until r's
// context ends (the caller left, or its deadline passed); it reports whether
// r was finished. A recording whose caller has gone when its batch starts is
// left out of it (recordBatch); one already in a batch may still commit, and
// a retry with its idempotency key then answers it.
func (q *recorder) record(r *recording) bool {
	q.mu.Lock()
	q.queue = append(q.queue, r)
	if q.running < q.lanes {
		q.running++
		go q.drain()
	}
	q.mu.Unlock()
	select {
	case <-r.done:
		return true
	case <-r.ctx.Done():
		select {
		case <-r.done:
			return true
		default:
			return false
		}
	}
}

// drain runs batches until the queue is empty; there are at most lanes drains.
func (q *recorder) drain() {
	for {
		q.mu.Lock()
		n := min(len(q.queue), q.maxBatch)
		if n == 0 {
			q.running--
			q.mu.Unlock()
			return
		}
		batch := slices.Clone(q.queue[:n])
		rest := copy(q.queue, q.queue[n:])
		clear(q.queue[rest:])
		q.queue = q.queue[:rest]
		q.mu.Unlock()
		q.run(batch)
	}
}

// recordBatch is the recorder's run: it records the batch and finishes every
// recording in it, whatever happens.
func (s *Service) recordBatch(batch []*recording) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("recording batch panicked", "panic", v)
			for _, r := range batch {
				r.err = fmt.Errorf("recording panicked: %v", v)
			}
		}
		for _, r := range batch {
			close(r.done)
		}
	}()
	live := make([]*recording, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err // the caller is gone; nothing was recorded
			continue
		}
		live = append(live, r)
	}
	s.recordTogether(live)
}

// recordTogether commits rs in one transaction, then, once their score rows
// exist, the ones that found none. If the transaction fails as a whole, each
// recording runs again alone.
func (s *Service) recordTogether(rs []*recording) {
	for round := 0; len(rs) > 0; round++ {
		missing, err := s.commitBatch(rs)
		if err != nil && len(rs) > 1 {
			for _, r := range rs {
				s.recordTogether([]*recording{r})
			}
			return
		}
		if err != nil {
			rs[0].err = err
			return
		}
		if round == 2 && len(missing) > 0 { // cannot happen: the rows were just made
			for _, r := range missing {
				r.err = fmt.Errorf("score row of merchant %d %s still missing", r.merchantID, r.cycle)
			}
			return
		}
		// Missing score rows are made outside the transaction, after the
		// merchant was admitted, so a recording transaction never inserts
		// into a gap another one has locked.
		ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
		for _, r := range missing {
			if err := s.ensureScoreRow(ctx, r.merchantID, r.cycle.String()); err != nil {
				r.err = err
			}
		}
		cancel()
		rs = slices.DeleteFunc(missing, func(r *recording) bool { return r.err != nil })
	}
}

// ensureScoreRow makes a merchant's score row of the cycle if it has none.
// Its insert can deadlock with a recording transaction's locking read of the
// rows around it (MariaDB gap locks); like those transactions, it then runs
// again.
func (s *Service) ensureScoreRow(ctx context.Context, merchantID int64, cycle string) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.db.EnsureScoreRow(ctx, merchantID, cycle, s.policy.BaseScore); err == nil || !models.IsRetryable(err) {
			break
		}
	}
	return err
}

// scoreKey names one merchant's score row of one cycle.
type scoreKey struct {
	merchant int64
	cycle    string
}

// commitBatch records every recording of rs that is admitted and has a score
// row, in one transaction, retrying deadlocks. On success each recording has
// its result or its refusal, except those returned as missing their score row;
// the leaderboards have heard of every changed score. On error nothing was
// recorded.
func (s *Service) commitBatch(rs []*recording) (missing []*recording, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	var ids, photos []int64
	var cycles []string
	for _, r := range rs {
		ids = append(ids, r.merchantID)
		photos = append(photos, r.photos...)
		cycles = append(cycles, s.historyCycles(r.cycle)...)
	}
	ids, photos, cycles = sortedSet(ids), sortedSet(photos), sortedSet(cycles)

	var locks map[int64]*models.RecordLock
	var changed []scoreKey
	for attempt := 0; attempt < 5; attempt++ {
		missing, changed = nil, nil
		err = s.db.InTx(ctx, func(ctx context.Context) error {
			// The photos first, locked: which shop each is evidence of is
			// decided here, and a concurrent batch or notice binding one of
			// them to another shop waits for this one (and then refuses).
			evidence, err := s.db.LockEvidencePhotos(ctx, photos)
			if err != nil {
				return err
			}
			if locks, err = s.db.LockForRecords(ctx, ids, cycles); err != nil {
				return err
			}
			bind := map[int64]int64{}
			held := make(map[int64][]models.Score, len(locks))
			for id, lk := range locks {
				held[id] = lk.Scores
			}
			reps, err := s.repairsFor(ctx, held) // read before the batch adds to the rows: it may only add serious items of now
			if err != nil {
				return err
			}
			var inspections []models.Inspection
			var made []*recording
			var entries [][]models.LedgerEntry
			for _, r := range rs {
				r.result, r.err = InspectionResult{}, nil
				lk, ok := locks[r.merchantID]
				if !ok {
					r.err = errNotFound
					continue
				}
				view := *lk
				view.CountPhotos(r.photos, evidence)
				if r.err = r.admit(view); r.err != nil {
					continue
				}
				cur := scoreRow(lk.Scores, r.cycle.String())
				if cur == nil {
					missing = append(missing, r)
					continue
				}
				batch := s.tally(cur, r.merchantID, r.entries)
				score := s.policy.Evaluate(s.standingFrom(lk.Merchant, r.cycle, lk.Scores, reps[r.merchantID]))
				r.result = InspectionResult{MerchantID: r.merchantID, Delta: r.delta, Score: score}
				resp, _ := json.Marshal(score)
				ins := r.row
				ins.MerchantID = r.merchantID
				ins.Response = string(resp)
				inspections = append(inspections, ins)
				made = append(made, r)
				bindEvidence(evidence, r.merchantID, r.photos, bind)
				entries = append(entries, batch)
				if k := (scoreKey{r.merchantID, r.cycle.String()}); !slices.Contains(changed, k) {
					changed = append(changed, k)
				}
			}
			if len(made) == 0 {
				return nil
			}
			rows := make([]models.Score, len(changed))
			for i, k := range changed {
				rows[i] = *scoreRow(locks[k.merchant].Scores, k.cycle)
			}
			if err := s.db.SetScores(ctx, rows); err != nil {
				return err
			}
			if err := s.db.BindPhotos(ctx, bind); err != nil {
				return err
			}
			if err := s.db.CreateInspections(ctx, inspections); err != nil {
				return err
			}
			var all []models.LedgerEntry
			for i, r := range made {
				r.result.ID = inspections[i].ID
				for _, e := range entries[i] {
					e.InspectionID = &inspections[i].ID
					all = append(all, e)
				}
			}
			return s.db.AppendLedger(ctx, all)
		})
		if err == nil || !models.IsRetryable(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	for _, k := range changed {
		lk := locks[k.merchant]
		row := scoreRow(lk.Scores, k.cycle)
		s.scores.ScoreChanged(ctx, lk.Merchant, k.cycle, row.Score, row.Entries)
	}
	return missing, nil
}

// tally moves a locked score row by the entries, returning the entries of
// the merchant as they are to be stored.
func (s *Service) tally(cur *models.Score, merchantID int64, entries []models.LedgerEntry) []models.LedgerEntry {
	out := make([]models.LedgerEntry, len(entries))
	for i, e := range entries {
		e.MerchantID = merchantID
		out[i] = e
		switch e.CountsAs {
		case models.KindDeduction:
			cur.Deductions -= e.Points
		case models.KindBonus:
			cur.Bonuses += e.Points
		}
		if e.Serious {
			if e.Kind == models.KindReversal {
				cur.Serious--
			} else {
				cur.Serious++
			}
		}
		cur.Entries++
	}
	cur.Score = s.policy.Score(policy.Tally{Deductions: cur.Deductions, Bonuses: cur.Bonuses, Serious: cur.Serious})
	return out
}

// scoreRow finds the row of a cycle among a merchant's locked rows.
func scoreRow(rows []models.Score, cycle string) *models.Score {
	for i := range rows {
		if rows[i].Cycle == cycle {
			return &rows[i]
		}
	}
	return nil
}

// sortedSet returns the distinct values of xs in ascending order.
func sortedSet[T int64 | string](xs []T) []T {
	slices.Sort(xs)
	return slices.Compact(xs)
}
