-- +goose Up
-- Evidence photos belong to one shop (issue 16, defect 12): an officer could
-- name another shop's photo as evidence, and that shop's merchant then saw
-- it. photos.merchant_id is the shop a photo documents: a merchant's own
-- upload is its shop's from the start; an officer's is bound by the first
-- inspection or notice that names it (in that transaction), and naming it
-- for another shop is refused. NULL: not evidence of any shop yet (and a
-- citizen's photo, which its case binds). No foreign key: merchants are
-- closed, never deleted, and SQLite could not drop a referencing column again.
ALTER TABLE photos ADD COLUMN merchant_id BIGINT NULL;

-- Photos in use: a merchant's upload is its shop's; an officer's belongs to
-- the shop of the first inspection or notice that named it (photo_ids is a
-- comma-separated list of ids).
UPDATE photos SET merchant_id = (SELECT u.merchant_id FROM users u WHERE u.id = photos.uploaded_by)
WHERE uploaded_by IS NOT NULL;

WITH RECURSIVE uses(merchant_id, at, rest, photo_id) AS (
  SELECT merchant_id, at, photo_ids || ',', NULL FROM (
    SELECT merchant_id, created_at AS at, photo_ids FROM inspections WHERE photo_ids <> ''
    UNION ALL SELECT merchant_id, issued_at, photo_ids FROM notices WHERE photo_ids <> '')
  UNION ALL
  SELECT merchant_id, at, substr(rest, instr(rest, ',') + 1), CAST(substr(rest, 1, instr(rest, ',') - 1) AS INTEGER)
  FROM uses WHERE rest <> ''
), ranked AS (
  SELECT photo_id, merchant_id, ROW_NUMBER() OVER (PARTITION BY photo_id ORDER BY at, merchant_id) AS k
  FROM uses WHERE photo_id IS NOT NULL
)
UPDATE photos SET merchant_id = ranked.merchant_id FROM ranked
WHERE ranked.photo_id = photos.id AND ranked.k = 1 AND photos.merchant_id IS NULL AND photos.origin <> 'citizen';

-- +goose Down
ALTER TABLE photos DROP COLUMN merchant_id;
