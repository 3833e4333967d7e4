-- +goose Up
-- The audit log (操作记录): every administrative change with who, when, what
-- and the before/after, written in the same transaction as the change.
-- county_id is NULL for city-level changes (a city admin's account). actor_id
-- has no foreign key: the log records whoever acted, and must never be the
-- reason a change fails. before_json and after_json hold the changed fields
-- as JSON objects ('' when there is nothing: before a creation), never a
-- password or its hash.
CREATE TABLE audit_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  county_id BIGINT NULL,
  actor_id BIGINT NOT NULL,
  actor_name VARCHAR(64) NOT NULL,
  kind VARCHAR(32) NOT NULL,
  object_type VARCHAR(16) NOT NULL,
  object_id BIGINT NOT NULL,
  summary VARCHAR(255) NOT NULL,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL,
  occurred_at DATETIME(3) NOT NULL,
  KEY idx_audit_county (county_id, id),
  KEY idx_audit_kind (kind, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Append-only, like the ledger.
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only';
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only';
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_events;
