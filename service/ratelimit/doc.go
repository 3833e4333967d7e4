// Package ratelimit limits how often a key (a client address, a device, a
// shop) may act: token buckets behind one Limiter interface, kept in memory
// here and shared by every instance through Redis in package leaderboard.
package ratelimit
