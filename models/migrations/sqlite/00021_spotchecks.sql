-- +goose Up
-- Random audits (抽查, issue 15): the county admin draws a sample of shops
-- per road with a recorded seed; an auditor (the auditor role, or a county
-- admin) visits them blind to the officers' records and notes what it
-- finds. These records never reach the ledger or any score: they only feed
-- the officers' agreement figures.
--
-- audits: one draw of a county's cycle. seed and algorithm reproduce it;
-- draw holds, per road, the size asked and the number of active shops the
-- draw chose from (JSON), so the sample can be recomputed and checked.
CREATE TABLE audits (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  county_id BIGINT NOT NULL,
  cycle CHAR(7) NOT NULL,
  seed BIGINT NOT NULL,
  algorithm VARCHAR(32) NOT NULL,
  draw TEXT NOT NULL,
  auditor_id BIGINT NOT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  created_by BIGINT NOT NULL,
  created_at DATETIME NOT NULL,
  CONSTRAINT fk_audits_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_audits_auditor FOREIGN KEY (auditor_id) REFERENCES users (id),
  CONSTRAINT fk_audits_creator FOREIGN KEY (created_by) REFERENCES users (id)
);
CREATE INDEX idx_audits_county_cycle ON audits (county_id, cycle, id);
CREATE INDEX idx_audits_auditor ON audits (auditor_id, id);

-- audit_shops: the sample, in draw order per road (draw_order), and the
-- auditor's visit (visited_at NULL: not yet).
CREATE TABLE audit_shops (
  audit_id BIGINT NOT NULL,
  merchant_id BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  road_id BIGINT NOT NULL,
  draw_order INT NOT NULL,
  visited_at DATETIME NULL,
  visited_by BIGINT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  PRIMARY KEY (audit_id, merchant_id),
  CONSTRAINT fk_audit_shops_audit FOREIGN KEY (audit_id) REFERENCES audits (id),
  CONSTRAINT fk_audit_shops_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_audit_shops_road FOREIGN KEY (road_id) REFERENCES roads (id),
  CONSTRAINT fk_audit_shops_visitor FOREIGN KEY (visited_by) REFERENCES users (id)
);
CREATE INDEX idx_audit_shops_merchant ON audit_shops (merchant_id);

-- audit_records: the items the auditor found at a visit (deduction items of
-- the catalogue, points within the item's range), written with the visit.
CREATE TABLE audit_records (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  audit_id BIGINT NOT NULL,
  merchant_id BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  rule_code VARCHAR(32) NOT NULL,
  points INT NOT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  recorded_by BIGINT NOT NULL,
  recorded_at DATETIME NOT NULL,
  CONSTRAINT fk_audit_records_shop FOREIGN KEY (audit_id, merchant_id) REFERENCES audit_shops (audit_id, merchant_id),
  CONSTRAINT fk_audit_records_user FOREIGN KEY (recorded_by) REFERENCES users (id)
);
CREATE INDEX idx_audit_records_shop ON audit_records (audit_id, merchant_id, id);

-- Audits and visits join the county change versions (see 00013 and 00015):
-- the console and the auditor's pages show them. Logged under merchant -1,
-- like accounts and cases: no shop's score or standing changes. A sample's
-- rows are inserted with their audit (whose trigger fires), a visit's
-- records with the visit (the update of its audit_shops row).
-- +goose StatementBegin
CREATE TRIGGER audits_ai AFTER INSERT ON audits
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audits_au AFTER UPDATE ON audits
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_shops_au AFTER UPDATE ON audit_shops
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_shops_au;
DROP TRIGGER audits_au;
DROP TRIGGER audits_ai;
DROP TABLE audit_records;
DROP TABLE audit_shops;
DROP TABLE audits;
