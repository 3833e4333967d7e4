-- +goose Up
-- Queue indexes. The county queues read the pending appeals, oldest first:
-- by status, the few pending ones are found without visiting every shop.
CREATE INDEX idx_appeals_status_filed ON appeals (status, filed_at, id);

-- +goose Down
DROP INDEX idx_appeals_status_filed ON appeals;
