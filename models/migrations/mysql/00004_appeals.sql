-- +goose Up
CREATE TABLE appeals (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  merchant_id BIGINT NOT NULL,
  entry_id BIGINT NOT NULL,
  cycle CHAR(7) NOT NULL,
  reason VARCHAR(500) NOT NULL,
  status VARCHAR(16) NOT NULL,
  filed_by BIGINT NOT NULL,
  filed_at DATETIME(3) NOT NULL,
  decided_by BIGINT NULL,
  decided_at DATETIME(3) NULL,
  decision_note VARCHAR(500) NOT NULL DEFAULT '',
  UNIQUE KEY uq_appeals_entry (entry_id),
  KEY idx_appeals_merchant (merchant_id, id),
  CONSTRAINT fk_appeals_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_appeals_entry FOREIGN KEY (entry_id) REFERENCES ledger_entries (id),
  CONSTRAINT fk_appeals_filed_by FOREIGN KEY (filed_by) REFERENCES users (id),
  CONSTRAINT fk_appeals_decided_by FOREIGN KEY (decided_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE appeals;
