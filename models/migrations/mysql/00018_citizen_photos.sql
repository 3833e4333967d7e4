-- +goose Up
-- Citizens' photos (issue 14): a report made through a shop's plaque may
-- carry one photo, stored like an officer's evidence but uploaded by no
-- account. origin tells them apart: 'account' (an officer's, a county
-- admin's or a merchant's upload) or 'citizen' (a report's, seen only by the
-- county office, and by the merchant once it became evidence of one of its
-- inspections). A citizen's photo has no uploader.
ALTER TABLE photos
  MODIFY uploaded_by BIGINT NULL,
  ADD COLUMN origin VARCHAR(16) NOT NULL DEFAULT 'account';

-- +goose Down
UPDATE cases SET photo_id = NULL WHERE photo_id IN (SELECT id FROM photos WHERE origin = 'citizen');
UPDATE case_reports SET photo_id = NULL WHERE photo_id IN (SELECT id FROM photos WHERE origin = 'citizen');
DELETE FROM photos WHERE origin = 'citizen';
ALTER TABLE photos
  DROP COLUMN origin,
  MODIFY uploaded_by BIGINT NOT NULL;
