-- +goose Up
-- Evidence photos belong to one shop (issue 16, defect 12): an officer could
-- name another shop's photo as evidence, and that shop's merchant then saw
-- it. photos.merchant_id is the shop a photo documents: a merchant's own
-- upload is its shop's from the start; an officer's is bound by the first
-- inspection or notice that names it (in that transaction, under the
-- photo's row lock), and naming it for another shop is refused. NULL: not
-- evidence of any shop yet (and a citizen's photo, which its case binds).
-- No foreign key (merchants are closed, never deleted), as on SQLite, which
-- could not drop a referencing column again.
ALTER TABLE photos ADD COLUMN merchant_id BIGINT NULL;

-- Photos in use: a merchant's upload is its shop's; an officer's belongs to
-- the shop of the first inspection or notice that named it (photo_ids is a
-- comma-separated list of at most 10 ids: 9 named and a case's photo).
UPDATE photos SET merchant_id = (SELECT u.merchant_id FROM users u WHERE u.id = photos.uploaded_by)
WHERE uploaded_by IS NOT NULL;

UPDATE photos p JOIN (
  SELECT photo_id, merchant_id FROM (
    SELECT photo_id, merchant_id, ROW_NUMBER() OVER (PARTITION BY photo_id ORDER BY at, merchant_id) AS k FROM (
      SELECT CAST(SUBSTRING_INDEX(SUBSTRING_INDEX(u.photo_ids, ',', n.n), ',', -1) AS UNSIGNED) AS photo_id, u.merchant_id, u.at
      FROM (SELECT merchant_id, created_at AS at, photo_ids FROM inspections WHERE photo_ids <> ''
            UNION ALL SELECT merchant_id, issued_at, photo_ids FROM notices WHERE photo_ids <> '') u
      JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6
            UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12
            UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15 UNION ALL SELECT 16) n
        ON n.n <= 1 + LENGTH(u.photo_ids) - LENGTH(REPLACE(u.photo_ids, ',', ''))
    ) uses
  ) ranked WHERE k = 1
) f ON f.photo_id = p.id
SET p.merchant_id = f.merchant_id
WHERE p.merchant_id IS NULL AND p.origin <> 'citizen';

-- +goose Down
ALTER TABLE photos DROP COLUMN merchant_id;
