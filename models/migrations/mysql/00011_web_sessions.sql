-- +goose Up
-- Sign-in sessions of the web pages. The cookie carries a random id; only its
-- SHA-256 is stored, so a copy of the table opens no session. A session ends
-- at logout (ended_at), at expiry, or when the account is disabled or its
-- password reset (token_generation no longer the account's).
CREATE TABLE web_sessions (
  id_hash CHAR(64) NOT NULL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  token_generation INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  ended_at DATETIME(3) NULL,
  KEY idx_web_sessions_expires (expires_at),
  CONSTRAINT fk_web_sessions_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A merchant may attach a photo to an appeal.
ALTER TABLE appeals ADD COLUMN photo_ids VARCHAR(255) NOT NULL DEFAULT '';

-- The merchant's own report that a notice was fixed (已整改), with a photo of
-- the shop front; an officer still confirms it at re-inspection.
ALTER TABLE notices
  ADD COLUMN reported_at DATETIME(3) NULL,
  ADD COLUMN report_note VARCHAR(500) NOT NULL DEFAULT '',
  ADD COLUMN report_photo_ids VARCHAR(255) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE notices DROP COLUMN report_photo_ids, DROP COLUMN report_note, DROP COLUMN reported_at;
ALTER TABLE appeals DROP COLUMN photo_ids;
DROP TABLE web_sessions;
