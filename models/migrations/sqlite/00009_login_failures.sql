-- +goose Up
-- Failed logins per username, shared by every instance so the rate limit holds
-- behind a load balancer and across restarts. Rows older than the window are
-- deleted as new failures arrive.
CREATE TABLE login_failures (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  username VARCHAR(64) NOT NULL,
  failed_at DATETIME NOT NULL
);
CREATE INDEX idx_login_failures_username_at ON login_failures (username, failed_at);
CREATE INDEX idx_login_failures_at ON login_failures (failed_at);

-- +goose Down
DROP TABLE login_failures;
