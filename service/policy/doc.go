// Package policy holds menqian's configurable catalogue and scoring policy (cycles, scores, stars, serious-item caps) as pure functions.
package policy
