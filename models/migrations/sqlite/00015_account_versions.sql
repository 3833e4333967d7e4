-- +goose Up
-- Accounts and road officers join the county change versions (see 00013):
-- the console's pages name officers and accounts, and are reused while their
-- counties' versions stand (service/web/pagecache.go). Such a change is logged
-- under merchant -1: it changes no shop or road of the county views, which
-- skip it, but it does change the version. Password changes and other
-- columns no page shows do not count.
-- +goose StatementBegin
CREATE TRIGGER users_ai AFTER INSERT ON users
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_au AFTER UPDATE ON users
WHEN NEW.username IS NOT OLD.username OR NEW.display_name IS NOT OLD.display_name OR NEW.role IS NOT OLD.role
  OR NEW.county_id IS NOT OLD.county_id OR NEW.merchant_id IS NOT OLD.merchant_id OR NEW.disabled IS NOT OLD.disabled
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id IN (OLD.county_id, NEW.county_id);
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id IN (OLD.county_id, NEW.county_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER road_officers_ai AFTER INSERT ON road_officers
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = (SELECT county_id FROM roads WHERE id = NEW.road_id);
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = (SELECT county_id FROM roads WHERE id = NEW.road_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER road_officers_ad AFTER DELETE ON road_officers
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = (SELECT county_id FROM roads WHERE id = OLD.road_id);
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = (SELECT county_id FROM roads WHERE id = OLD.road_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER road_officers_ad;
DROP TRIGGER road_officers_ai;
DROP TRIGGER users_au;
DROP TRIGGER users_ai;
