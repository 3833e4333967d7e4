package leaderboard

import (
	"context"
	"strings"
)

// ServerStats is what the Redis server says of itself (INFO: server,
// clients, memory, stats, cpu) as name → value, for measurements such as
// `menqian load -mixed`: its CPU time, commands processed and memory. On a
// cluster it is one node's.
func (r *Redis) ServerStats(ctx context.Context) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opTimeout)
	defer cancel()
	s, err := r.rdb.Info(ctx, "server", "clients", "memory", "stats", "cpu").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out, nil
}
