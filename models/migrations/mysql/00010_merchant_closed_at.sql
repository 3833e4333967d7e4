-- +goose Up
-- When a shop was closed: a shop closed after a cycle ended still ranks in
-- that cycle (its grace period, its bulletin), as it took part in it.
ALTER TABLE merchants ADD COLUMN closed_at DATETIME(3) NULL;
UPDATE merchants SET closed_at = updated_at WHERE status = 'closed';

-- +goose Down
ALTER TABLE merchants DROP COLUMN closed_at;
