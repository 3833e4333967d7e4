-- +goose Up
-- Citizens' photos (issue 14): a report made through a shop's plaque may
-- carry one photo, stored like an officer's evidence but uploaded by no
-- account. origin tells them apart: 'account' (an officer's, a county
-- admin's or a merchant's upload) or 'citizen' (a report's, seen only by the
-- county office, and by the merchant once it became evidence of one of its
-- inspections). A citizen's photo has no uploader.
--
-- SQLite cannot drop a NOT NULL: the table is rebuilt under its name. The
-- cases' references to photos are checked at commit (defer_foreign_keys),
-- when the rebuilt table holds every id again.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE photos_new (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  sha256 CHAR(64) NOT NULL,
  content_type VARCHAR(32) NOT NULL,
  size_bytes BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  uploaded_by BIGINT NULL,
  created_at DATETIME NOT NULL,
  origin VARCHAR(16) NOT NULL DEFAULT 'account',
  CONSTRAINT fk_photos_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_photos_user FOREIGN KEY (uploaded_by) REFERENCES users (id)
);
INSERT INTO photos_new (id, sha256, content_type, size_bytes, county_id, uploaded_by, created_at)
  SELECT id, sha256, content_type, size_bytes, county_id, uploaded_by, created_at FROM photos;
DROP TABLE photos;
ALTER TABLE photos_new RENAME TO photos;

-- +goose Down
PRAGMA defer_foreign_keys = ON;
UPDATE cases SET photo_id = NULL WHERE photo_id IN (SELECT id FROM photos WHERE origin = 'citizen');
UPDATE case_reports SET photo_id = NULL WHERE photo_id IN (SELECT id FROM photos WHERE origin = 'citizen');
CREATE TABLE photos_old (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  sha256 CHAR(64) NOT NULL,
  content_type VARCHAR(32) NOT NULL,
  size_bytes BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  uploaded_by BIGINT NOT NULL,
  created_at DATETIME NOT NULL,
  CONSTRAINT fk_photos_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_photos_user FOREIGN KEY (uploaded_by) REFERENCES users (id)
);
INSERT INTO photos_old (id, sha256, content_type, size_bytes, county_id, uploaded_by, created_at)
  SELECT id, sha256, content_type, size_bytes, county_id, uploaded_by, created_at FROM photos WHERE origin <> 'citizen';
DROP TABLE photos;
ALTER TABLE photos_old RENAME TO photos;
