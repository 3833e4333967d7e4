-- +goose Up
CREATE TABLE appeals (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  merchant_id BIGINT NOT NULL,
  entry_id BIGINT NOT NULL,
  cycle CHAR(7) NOT NULL,
  reason VARCHAR(500) NOT NULL,
  status VARCHAR(16) NOT NULL,
  filed_by BIGINT NOT NULL,
  filed_at DATETIME NOT NULL,
  decided_by BIGINT NULL,
  decided_at DATETIME NULL,
  decision_note VARCHAR(500) NOT NULL DEFAULT '',
  CONSTRAINT uq_appeals_entry UNIQUE (entry_id),
  CONSTRAINT fk_appeals_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_appeals_entry FOREIGN KEY (entry_id) REFERENCES ledger_entries (id),
  CONSTRAINT fk_appeals_filed_by FOREIGN KEY (filed_by) REFERENCES users (id),
  CONSTRAINT fk_appeals_decided_by FOREIGN KEY (decided_by) REFERENCES users (id)
);
CREATE INDEX idx_appeals_merchant ON appeals (merchant_id, id);

-- +goose Down
DROP TABLE appeals;
