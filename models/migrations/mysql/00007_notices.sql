-- +goose Up
-- Rectification notices (限期整改通知): a problem to fix by a deadline, often
-- instead of a deduction for a first minor offence; confirmed at re-inspection.
CREATE TABLE notices (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  merchant_id BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  rule_code VARCHAR(32) NOT NULL DEFAULT '',
  note VARCHAR(500) NOT NULL DEFAULT '',
  photo_ids VARCHAR(255) NOT NULL DEFAULT '',
  status VARCHAR(16) NOT NULL,
  issued_by BIGINT NOT NULL,
  issued_at DATETIME(3) NOT NULL,
  due_at DATETIME(3) NOT NULL,
  resolved_by BIGINT NULL,
  resolved_at DATETIME(3) NULL,
  resolution_note VARCHAR(500) NOT NULL DEFAULT '',
  KEY idx_notices_merchant (merchant_id, id),
  KEY idx_notices_county_due (county_id, due_at),
  CONSTRAINT fk_notices_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_notices_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_notices_issued_by FOREIGN KEY (issued_by) REFERENCES users (id),
  CONSTRAINT fk_notices_resolved_by FOREIGN KEY (resolved_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE notices;
