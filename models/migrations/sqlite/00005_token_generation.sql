-- +goose Up
-- A password reset bumps the generation; tokens carry the one they were issued under.
ALTER TABLE users ADD COLUMN token_generation INT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN token_generation;
