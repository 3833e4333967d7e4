-- +goose Up
-- Citizen reports (随手拍) and their cases. A report made through a shop's
-- plaque (or Open311) opens a case, or joins the open case of the same shop
-- and catalogue item: open_key holds "merchant:rule_code" while the case is
-- open (NULL once closed or dismissed, and for cases of no shop), so two
-- concurrent reports cannot open two cases of one shop and item. The
-- workflow (GB/T 30428.8, simplified): received → accepted | dismissed →
-- dispatched → handled → verified → closed, with returned (back to
-- dispatch), an extension (event only) and a reopening by the reporter.
-- case_reports holds every report of a case (the first one too); the phone
-- is for the county office only. case_events holds every transition with
-- who (NULL: the public reporter) and when.
CREATE TABLE cases (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  receipt VARCHAR(16) NOT NULL,
  county_id BIGINT NOT NULL,
  merchant_id BIGINT NULL,
  road_id BIGINT NULL,
  rule_code VARCHAR(32) NOT NULL,
  status VARCHAR(16) NOT NULL,
  source VARCHAR(16) NOT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  photo_id BIGINT NULL,
  reports INT NOT NULL DEFAULT 1,
  officer_id BIGINT NULL,
  due_at DATETIME(3) NULL,
  extended BOOLEAN NOT NULL DEFAULT FALSE,
  received_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  closed_at DATETIME(3) NULL,
  on_time BOOLEAN NULL,
  reopened BOOLEAN NOT NULL DEFAULT FALSE,
  inspection_id BIGINT NULL,
  notice_id BIGINT NULL,
  outcome VARCHAR(16) NOT NULL DEFAULT '',
  open_key VARCHAR(64) NULL,
  UNIQUE KEY uq_cases_receipt (receipt),
  UNIQUE KEY uq_cases_open_key (open_key),
  KEY idx_cases_county_status_due (county_id, status, due_at, id),
  KEY idx_cases_county_received (county_id, received_at),
  KEY idx_cases_officer_due (officer_id, status, due_at),
  KEY idx_cases_merchant_rule (merchant_id, rule_code, id),
  CONSTRAINT fk_cases_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_cases_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_cases_road FOREIGN KEY (road_id) REFERENCES roads (id),
  CONSTRAINT fk_cases_photo FOREIGN KEY (photo_id) REFERENCES photos (id),
  CONSTRAINT fk_cases_officer FOREIGN KEY (officer_id) REFERENCES users (id),
  CONSTRAINT fk_cases_inspection FOREIGN KEY (inspection_id) REFERENCES inspections (id),
  CONSTRAINT fk_cases_notice FOREIGN KEY (notice_id) REFERENCES notices (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE case_reports (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  case_id BIGINT NOT NULL,
  phone VARCHAR(20) NOT NULL DEFAULT '',
  note VARCHAR(500) NOT NULL DEFAULT '',
  photo_id BIGINT NULL,
  client CHAR(64) NOT NULL,
  device CHAR(64) NOT NULL,
  reported_at DATETIME(3) NOT NULL,
  KEY idx_case_reports_case (case_id, id),
  CONSTRAINT fk_case_reports_case FOREIGN KEY (case_id) REFERENCES cases (id),
  CONSTRAINT fk_case_reports_photo FOREIGN KEY (photo_id) REFERENCES photos (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE case_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  case_id BIGINT NOT NULL,
  action VARCHAR(16) NOT NULL,
  from_status VARCHAR(16) NOT NULL,
  to_status VARCHAR(16) NOT NULL,
  actor_id BIGINT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  at DATETIME(3) NOT NULL,
  KEY idx_case_events_case (case_id, id),
  CONSTRAINT fk_case_events_case FOREIGN KEY (case_id) REFERENCES cases (id),
  CONSTRAINT fk_case_events_actor FOREIGN KEY (actor_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Cases join the county change versions (see 00013 and 00015): the console
-- and the public case pages show them. Logged under merchant -1, like
-- accounts: no shop's score or standing changes.
-- +goose StatementBegin
CREATE TRIGGER cases_ai AFTER INSERT ON cases FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER cases_au AFTER UPDATE ON cases FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER cases_au;
DROP TRIGGER cases_ai;
DROP TABLE case_events;
DROP TABLE case_reports;
DROP TABLE cases;
