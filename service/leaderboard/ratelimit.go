package leaderboard

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/service/ratelimit"
)

// limitTimeout bounds one limiter call: a hanging Redis must not hold a
// report or a login for long (ratelimit.Fallback then limits in memory).
const limitTimeout = 500 * time.Millisecond

// Limiter returns the rate limits kept in this board's Redis, shared by every
// instance. Each key is one string under the board's prefix,
//
//	P:{rl}:NAME:ID   the bucket's theoretical arrival time (unix ms, GCRA)
//
// expiring when its bucket is full again; every key shares the hash tag
// {rl}, so one script may take several of them at once.
func (r *Redis) Limiter() ratelimit.Limiter { return redisLimiter{rdb: r.rdb, prefix: r.prefix} }

type redisLimiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// limitScript is GCRA, the token bucket kept as one time per key: a bucket
// of N actions refilled one every T (window/N) is full when its time is
// past, and may act when its time plus T is at most window ahead of now. All
// the keys act, or none does.
//
// KEYS: the buckets. ARGV: now (unix ms), 1 to take or 0 to look, then for
// each key T and window in ms. Returns the wait in ms, 0 when they may act.
var limitScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local per = tonumber(ARGV[2*i+1])
  local window = tonumber(ARGV[2*i+2])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  tats[i] = tat + per
  if tats[i] - now - window > wait then wait = tats[i] - now - window end
end
if wait > 0 or ARGV[2] ~= '1' then return wait end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tats[i], 'PX', tats[i] - now)
end
return 0
`)

// Take implements ratelimit.Limiter.
func (l redisLimiter) Take(ctx context.Context, now time.Time, keys ...ratelimit.Key) (time.Duration, error) {
	return l.run(ctx, now, true, keys)
}

// Wait implements ratelimit.Limiter.
func (l redisLimiter) Wait(ctx context.Context, now time.Time, keys ...ratelimit.Key) (time.Duration, error) {
	return l.run(ctx, now, false, keys)
}

func (l redisLimiter) run(ctx context.Context, now time.Time, take bool, keys []ratelimit.Key) (time.Duration, error) {
	names := make([]string, len(keys))
	args := make([]any, 2, 2+2*len(keys))
	args[0], args[1] = now.UnixMilli(), 0
	if take {
		args[1] = 1
	}
	for i, k := range keys {
		names[i] = l.prefix + ":{rl}:" + k.Limit.Name + ":" + k.ID
		args = append(args, k.Limit.Per().Milliseconds(), k.Limit.Window.Milliseconds())
	}
	ctx, cancel := context.WithTimeout(ctx, limitTimeout)
	defer cancel()
	ms, err := limitScript.Run(ctx, l.rdb, names, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis rate limit: %w", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}
