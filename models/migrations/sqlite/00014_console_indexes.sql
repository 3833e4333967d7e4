-- +goose Up
-- Console indexes. The county queues read the pending appeals, oldest first:
-- by status, the few pending ones are found without visiting every shop.
CREATE INDEX idx_appeals_status_filed ON appeals (status, filed_at, id);
-- The console's shop list, by name: a page is read in order, not sorted.
CREATE INDEX idx_merchants_county_name ON merchants (county_id, name, id);

-- +goose Down
DROP INDEX idx_merchants_county_name;
DROP INDEX idx_appeals_status_filed;
