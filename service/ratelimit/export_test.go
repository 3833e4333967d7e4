package ratelimit

import "time"

// Buckets is how many keys of the limit m remembers.
func (m *Memory) Buckets(limit string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.limits[limit])
}

// SetRetry sets how long f leaves a failed shared store alone.
func SetRetry(f *Fallback, d time.Duration) { f.retry = d }
