package photostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// CopyResult counts what Copy did with each photo of the source.
type CopyResult struct {
	Copied, Skipped, Failed int
}

// maxCopyBytes bounds the photo Copy reads into memory: well over the
// largest upload menqian ever took (5 MiB), so only something that is not
// a photo is refused by it.
const maxCopyBytes = 64 << 20

// Copy copies every photo of from that to lacks (or holds with another
// size) into to, with workers copies at once. It reads each photo whole and
// uploads it only when its SHA-256 is its key, so a damaged file is
// reported, never copied; each upload is one request, so an interrupted
// copy leaves no half photo and a second run copies what the first did
// not. failed is called (from several goroutines, one call at a time) with
// each photo that could not be copied and why. The error is the listing's
// or the context's; failed photos are counted, not returned.
func Copy(ctx context.Context, from, to Store, workers int, failed func(key string, err error)) (CopyResult, error) {
	if workers < 1 {
		workers = 1
	}
	type photo struct {
		key  string
		size int64
	}
	var (
		res  CopyResult
		mu   sync.Mutex
		wg   sync.WaitGroup
		work = make(chan photo)
	)
	count := func(n *int, key string, err error) {
		mu.Lock()
		defer mu.Unlock()
		*n++
		if err != nil {
			failed(key, err)
		}
	}
	for range workers {
		wg.Go(func() {
			for p := range work {
				copied, err := copyOne(ctx, from, to, p.key, p.size)
				switch {
				case err != nil:
					count(&res.Failed, p.key, err)
				case copied:
					count(&res.Copied, p.key, nil)
				default:
					count(&res.Skipped, p.key, nil)
				}
			}
		})
	}
	err := from.List(ctx, func(key string, size int64) error {
		select {
		case work <- photo{key, size}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(work)
	wg.Wait()
	return res, err
}

// copyOne copies one photo unless to has it at the same size (its key is
// its content's hash: the same key and size are the same photo).
func copyOne(ctx context.Context, from, to Store, key string, size int64) (bool, error) {
	have, err := to.Size(ctx, key)
	if err == nil && have == size {
		return false, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	r, err := from.Open(ctx, key)
	if err != nil {
		return false, err
	}
	data, err := io.ReadAll(io.LimitReader(r, maxCopyBytes+1))
	r.Close()
	if err != nil {
		return false, err
	}
	if len(data) > maxCopyBytes {
		return false, fmt.Errorf("over %d MiB: not a photo", maxCopyBytes>>20)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != key {
		return false, fmt.Errorf("damaged: its content's SHA-256 is %s, not its name", got)
	}
	return true, to.Put(ctx, key, data)
}
