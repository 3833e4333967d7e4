-- +goose Up
-- Credit repair (信用修复). A merchant whose star a serious-item cap holds
-- down applies once the minimum period passed and the breach was rectified:
-- a reason, photos, and a signed credit commitment (信用承诺: the typed name
-- and when it was ticked). open_merchant_id holds the shop's id while the
-- application is pending (NULL once decided), so a shop has at most one open
-- application however many are sent at once. The county office grants or
-- refuses it by due_at.
--
-- A grant is also a row of repairs, which is append-only (triggers refuse
-- UPDATE and DELETE, as for the ledger): from granted_at on, the serious
-- items of through_cycle and earlier cycles no longer cap the shop's star.
-- Nothing in the ledger changes.
CREATE TABLE repair_applications (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  merchant_id BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  through_cycle CHAR(7) NOT NULL,
  reason VARCHAR(500) NOT NULL,
  photo_ids VARCHAR(255) NOT NULL DEFAULT '',
  pledge_name VARCHAR(64) NOT NULL,
  applied_by BIGINT NOT NULL,
  applied_at DATETIME(3) NOT NULL,
  due_at DATETIME(3) NOT NULL,
  status VARCHAR(16) NOT NULL,
  decided_by BIGINT NULL,
  decided_at DATETIME(3) NULL,
  decision_note VARCHAR(500) NOT NULL DEFAULT '',
  open_merchant_id BIGINT NULL,
  UNIQUE KEY uq_repair_applications_open (open_merchant_id),
  KEY idx_repair_applications_county_status (county_id, status, due_at, id),
  KEY idx_repair_applications_merchant (merchant_id, id),
  CONSTRAINT fk_repair_applications_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_repair_applications_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_repair_applications_applied_by FOREIGN KEY (applied_by) REFERENCES users (id),
  CONSTRAINT fk_repair_applications_decided_by FOREIGN KEY (decided_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE repairs (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  application_id BIGINT NOT NULL,
  merchant_id BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  through_cycle CHAR(7) NOT NULL,
  granted_by BIGINT NOT NULL,
  granted_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_repairs_application (application_id),
  KEY idx_repairs_merchant (merchant_id, granted_at),
  CONSTRAINT fk_repairs_application FOREIGN KEY (application_id) REFERENCES repair_applications (id),
  CONSTRAINT fk_repairs_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_repairs_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_repairs_granted_by FOREIGN KEY (granted_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose StatementBegin
CREATE TRIGGER repairs_no_update BEFORE UPDATE ON repairs FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'repairs is append-only';
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER repairs_no_delete BEFORE DELETE ON repairs FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'repairs is append-only';
-- +goose StatementEnd

-- Both join the county change versions (see 00013, 00015 and 00016): an
-- application is shown on the merchant's and the console's pages (logged
-- under merchant -1: no standing changes); a granted repair changes the
-- shop's rated star (logged under the shop, whose views re-read it).
-- +goose StatementBegin
CREATE TRIGGER repair_applications_ai AFTER INSERT ON repair_applications FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER repair_applications_au AFTER UPDATE ON repair_applications FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER repairs_ai AFTER INSERT ON repairs FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.merchant_id FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER repairs_ai;
DROP TRIGGER repair_applications_au;
DROP TRIGGER repair_applications_ai;
DROP TRIGGER repairs_no_delete;
DROP TRIGGER repairs_no_update;
DROP TABLE repairs;
DROP TABLE repair_applications;
