-- +goose Up
-- Per-county change versions (区县变更版本). Every write that can change what a
-- county's views show (its shops, their scores, inspections, notices and
-- appeals, its roads, the county itself) bumps the
-- county's version and logs the changed shop (0: the county or a road) under
-- that version, in the writing transaction, by the triggers below, so that no
-- write path can forget it. The version row is locked from the first change
-- until commit, so one county's versions are handed out in commit order: a
-- reader that has applied every change up to version v and reads version w
-- finds exactly the changes v+1..w (see models/countyview.go). Old changes
-- are pruned; a reader further behind than the log rebuilds its view.
CREATE TABLE county_versions (
  county_id BIGINT NOT NULL PRIMARY KEY,
  version BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE county_changes (
  county_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  merchant_id BIGINT NOT NULL,
  PRIMARY KEY (county_id, version)
) ENGINE=InnoDB;
INSERT INTO county_versions (county_id, version) SELECT id, 0 FROM counties;

-- +goose StatementBegin
CREATE TRIGGER counties_ai AFTER INSERT ON counties FOR EACH ROW
BEGIN
  INSERT INTO county_versions (county_id, version) VALUES (NEW.id, 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER merchants_ai AFTER INSERT ON merchants FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.id FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER merchants_au AFTER UPDATE ON merchants FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.id FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER merchants_au_old AFTER UPDATE ON merchants FOR EACH ROW
BEGIN
  IF OLD.county_id <> NEW.county_id THEN
    UPDATE county_versions SET version = version + 1 WHERE county_id = OLD.county_id;
    INSERT INTO county_changes (county_id, version, merchant_id)
      SELECT county_id, version, NEW.id FROM county_versions WHERE county_id = OLD.county_id;
  END IF;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scores_ai AFTER INSERT ON scores FOR EACH ROW
BEGIN
  DECLARE c BIGINT;
  SELECT county_id INTO c FROM merchants WHERE id = NEW.merchant_id;
  UPDATE county_versions SET version = version + 1 WHERE county_id = c;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.merchant_id FROM county_versions WHERE county_id = c;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scores_au AFTER UPDATE ON scores FOR EACH ROW
BEGIN
  DECLARE c BIGINT;
  SELECT county_id INTO c FROM merchants WHERE id = NEW.merchant_id;
  UPDATE county_versions SET version = version + 1 WHERE county_id = c;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.merchant_id FROM county_versions WHERE county_id = c;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER inspections_ai AFTER INSERT ON inspections FOR EACH ROW
BEGIN
  DECLARE c BIGINT;
  SELECT county_id INTO c FROM merchants WHERE id = NEW.merchant_id;
  UPDATE county_versions SET version = version + 1 WHERE county_id = c;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.merchant_id FROM county_versions WHERE county_id = c;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER notices_ai AFTER INSERT ON notices FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.merchant_id FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER notices_au AFTER UPDATE ON notices FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.merchant_id FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER appeals_ai AFTER INSERT ON appeals FOR EACH ROW
BEGIN
  DECLARE c BIGINT;
  SELECT county_id INTO c FROM merchants WHERE id = NEW.merchant_id;
  UPDATE county_versions SET version = version + 1 WHERE county_id = c;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.merchant_id FROM county_versions WHERE county_id = c;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER appeals_au AFTER UPDATE ON appeals FOR EACH ROW
BEGIN
  DECLARE c BIGINT;
  SELECT county_id INTO c FROM merchants WHERE id = NEW.merchant_id;
  UPDATE county_versions SET version = version + 1 WHERE county_id = c;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, NEW.merchant_id FROM county_versions WHERE county_id = c;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER roads_ai AFTER INSERT ON roads FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, 0 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER roads_au AFTER UPDATE ON roads FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, 0 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER counties_au AFTER UPDATE ON counties FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, 0 FROM county_versions WHERE county_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER counties_ai;
DROP TRIGGER merchants_ai;
DROP TRIGGER merchants_au;
DROP TRIGGER merchants_au_old;
DROP TRIGGER scores_ai;
DROP TRIGGER scores_au;
DROP TRIGGER inspections_ai;
DROP TRIGGER notices_ai;
DROP TRIGGER notices_au;
DROP TRIGGER appeals_ai;
DROP TRIGGER appeals_au;
DROP TRIGGER roads_ai;
DROP TRIGGER roads_au;
DROP TRIGGER counties_au;
DROP TABLE county_changes;
DROP TABLE county_versions;
