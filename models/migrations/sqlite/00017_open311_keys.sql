-- +goose Up
-- Open311 api keys (issue 14): issued by the city admin to the systems that
-- file service requests; only a SHA-256 of each key is kept.
CREATE TABLE open311_keys (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(64) NOT NULL,
  key_hash CHAR(64) NOT NULL,
  created_by BIGINT NOT NULL,
  created_at DATETIME NOT NULL,
  revoked_at DATETIME NULL,
  CONSTRAINT uq_open311_keys_hash UNIQUE (key_hash)
);
-- The nearest shop to a request's location: by latitude, then longitude.
CREATE INDEX idx_merchants_lat_lng ON merchants (lat, lng);

-- +goose Down
DROP INDEX idx_merchants_lat_lng;
DROP TABLE open311_keys;
