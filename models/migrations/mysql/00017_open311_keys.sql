-- +goose Up
-- Open311 api keys (issue 14): issued by the city admin to the systems that
-- file service requests; only a SHA-256 of each key is kept.
CREATE TABLE open311_keys (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  key_hash CHAR(64) NOT NULL,
  created_by BIGINT NOT NULL,
  created_at DATETIME(3) NOT NULL,
  revoked_at DATETIME(3) NULL,
  CONSTRAINT uq_open311_keys_hash UNIQUE (key_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- The nearest shop to a request's location: by latitude, then longitude.
CREATE INDEX idx_merchants_lat_lng ON merchants (lat, lng);

-- +goose Down
DROP INDEX idx_merchants_lat_lng ON merchants;
DROP TABLE open311_keys;
