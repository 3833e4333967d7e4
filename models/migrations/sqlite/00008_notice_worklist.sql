-- +goose Up
-- The county's open rectification notices by deadline: the officers' worklist.
CREATE INDEX idx_notices_county_status_due ON notices (county_id, status, due_at);

-- +goose Down
DROP INDEX idx_notices_county_status_due;
