// Package leaderboard ranks merchants and roads by live score, in Redis sorted
// sets when Redis is configured and complete, else with SQL queries, and keeps
// the rate limits that every instance shares in the same Redis (Limiter); it
// is the only package that imports go-redis.
package leaderboard
