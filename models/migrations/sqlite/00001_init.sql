-- +goose Up
CREATE TABLE settings (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE counties (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  code VARCHAR(6) NOT NULL,
  name VARCHAR(64) NOT NULL,
  demo_road_target INT NOT NULL DEFAULT 10,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CONSTRAINT uq_counties_code UNIQUE (code)
);

CREATE TABLE roads (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  county_id BIGINT NOT NULL,
  name VARCHAR(64) NOT NULL,
  town VARCHAR(64) NOT NULL DEFAULT '',
  length_m INT NULL,
  demo_status VARCHAR(16) NOT NULL DEFAULT 'none',
  demo_changed_at DATETIME NULL,
  demo_changed_by BIGINT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CONSTRAINT uq_roads_county_name UNIQUE (county_id, name),
  CONSTRAINT fk_roads_county FOREIGN KEY (county_id) REFERENCES counties (id)
);

CREATE TABLE merchants (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  code VARCHAR(8) NOT NULL,
  county_id BIGINT NOT NULL,
  road_id BIGINT NOT NULL,
  name VARCHAR(128) NOT NULL,
  uscc VARCHAR(18) NULL,
  category VARCHAR(64) NOT NULL DEFAULT '',
  owner_name VARCHAR(64) NOT NULL DEFAULT '',
  phone VARCHAR(20) NOT NULL DEFAULT '',
  address VARCHAR(255) NOT NULL DEFAULT '',
  lat DOUBLE NULL,
  lng DOUBLE NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'active',
  qr_generation INT NOT NULL DEFAULT 1,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CONSTRAINT uq_merchants_code UNIQUE (code),
  CONSTRAINT uq_merchants_uscc UNIQUE (uscc),
  CONSTRAINT fk_merchants_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_merchants_road FOREIGN KEY (road_id) REFERENCES roads (id)
);

CREATE TABLE users (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  username VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  role VARCHAR(16) NOT NULL,
  county_id BIGINT NULL,
  merchant_id BIGINT NULL,
  display_name VARCHAR(64) NOT NULL DEFAULT '',
  disabled BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CONSTRAINT uq_users_username UNIQUE (username),
  CONSTRAINT fk_users_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_users_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id)
);

CREATE TABLE road_officers (
  road_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  PRIMARY KEY (road_id, user_id),
  CONSTRAINT fk_road_officers_road FOREIGN KEY (road_id) REFERENCES roads (id),
  CONSTRAINT fk_road_officers_user FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE photos (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  sha256 CHAR(64) NOT NULL,
  content_type VARCHAR(32) NOT NULL,
  size_bytes BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  uploaded_by BIGINT NOT NULL,
  created_at DATETIME NOT NULL,
  CONSTRAINT fk_photos_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_photos_user FOREIGN KEY (uploaded_by) REFERENCES users (id)
);

CREATE TABLE inspections (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  merchant_id BIGINT NOT NULL,
  officer_id BIGINT NOT NULL,
  cycle CHAR(7) NOT NULL,
  inspected_at DATETIME NOT NULL,
  lat DOUBLE NULL,
  lng DOUBLE NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  photo_ids VARCHAR(255) NOT NULL DEFAULT '',
  delta INT NOT NULL,
  idempotency_key VARCHAR(128) NOT NULL,
  request_hash CHAR(64) NOT NULL,
  response TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  CONSTRAINT uq_inspections_key UNIQUE (officer_id, idempotency_key),
  CONSTRAINT fk_inspections_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_inspections_officer FOREIGN KEY (officer_id) REFERENCES users (id)
);

CREATE TABLE ledger_entries (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  merchant_id BIGINT NOT NULL,
  cycle CHAR(7) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  counts_as VARCHAR(16) NOT NULL,
  points INT NOT NULL,
  serious BOOLEAN NOT NULL DEFAULT FALSE,
  rule_code VARCHAR(32) NOT NULL,
  inspection_id BIGINT NULL,
  reverses_id BIGINT NULL,
  author_id BIGINT NOT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  reason VARCHAR(500) NOT NULL DEFAULT '',
  occurred_at DATETIME NOT NULL,
  created_at DATETIME NOT NULL,
  CONSTRAINT uq_ledger_reverses UNIQUE (reverses_id),
  CONSTRAINT fk_ledger_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_ledger_inspection FOREIGN KEY (inspection_id) REFERENCES inspections (id),
  CONSTRAINT fk_ledger_reverses FOREIGN KEY (reverses_id) REFERENCES ledger_entries (id),
  CONSTRAINT fk_ledger_author FOREIGN KEY (author_id) REFERENCES users (id)
);

CREATE TABLE scores (
  merchant_id BIGINT NOT NULL,
  cycle CHAR(7) NOT NULL,
  deductions INT NOT NULL DEFAULT 0,
  bonuses INT NOT NULL DEFAULT 0,
  serious INT NOT NULL DEFAULT 0,
  score INT NOT NULL,
  entries INT NOT NULL DEFAULT 0,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (merchant_id, cycle),
  CONSTRAINT fk_scores_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id)
);

CREATE INDEX idx_merchants_county ON merchants (county_id, status);
CREATE INDEX idx_merchants_road ON merchants (road_id, status);
CREATE INDEX idx_photos_sha ON photos (sha256);
CREATE INDEX idx_inspections_merchant ON inspections (merchant_id, inspected_at);
CREATE INDEX idx_ledger_merchant_cycle ON ledger_entries (merchant_id, cycle);
CREATE INDEX idx_ledger_inspection ON ledger_entries (inspection_id);
CREATE INDEX idx_scores_cycle_score ON scores (cycle, score);

-- The ledger is append-only: corrections are new reversal entries.
-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE scores;
DROP TABLE ledger_entries;
DROP TABLE inspections;
DROP TABLE photos;
DROP TABLE road_officers;
DROP TABLE users;
DROP TABLE merchants;
DROP TABLE roads;
DROP TABLE counties;
DROP TABLE settings;
