-- +goose Up
-- Accounts and road officers join the county change versions (see 00013):
-- the console's pages name officers and accounts, and are reused while their
-- counties' versions stand (service/web/pagecache.go). Such a change is logged
-- under merchant -1: it changes no shop or road of the county views, which
-- skip it, but it does change the version. Password changes and other
-- columns no page shows do not count. One statement bumps both counties of
-- an account that moves, locking their rows in key order.
-- +goose StatementBegin
CREATE TRIGGER users_ai AFTER INSERT ON users FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_au AFTER UPDATE ON users FOR EACH ROW
BEGIN
  IF NOT (NEW.username <=> OLD.username AND NEW.display_name <=> OLD.display_name AND NEW.role <=> OLD.role
      AND NEW.county_id <=> OLD.county_id AND NEW.merchant_id <=> OLD.merchant_id AND NEW.disabled <=> OLD.disabled) THEN
    UPDATE county_versions SET version = version + 1 WHERE county_id IN (OLD.county_id, NEW.county_id);
    INSERT INTO county_changes (county_id, version, merchant_id)
      SELECT county_id, version, -1 FROM county_versions WHERE county_id IN (OLD.county_id, NEW.county_id);
  END IF;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER road_officers_ai AFTER INSERT ON road_officers FOR EACH ROW
BEGIN
  DECLARE c BIGINT;
  SELECT county_id INTO c FROM roads WHERE id = NEW.road_id;
  UPDATE county_versions SET version = version + 1 WHERE county_id = c;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = c;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER road_officers_ad AFTER DELETE ON road_officers FOR EACH ROW
BEGIN
  DECLARE c BIGINT;
  SELECT county_id INTO c FROM roads WHERE id = OLD.road_id;
  UPDATE county_versions SET version = version + 1 WHERE county_id = c;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = c;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER road_officers_ad;
DROP TRIGGER road_officers_ai;
DROP TRIGGER users_au;
DROP TRIGGER users_ai;
