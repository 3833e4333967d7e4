-- +goose Up
-- Failed logins per username, shared by every instance so the rate limit holds
-- behind a load balancer and across restarts. Rows older than the window are
-- deleted as new failures arrive.
CREATE TABLE login_failures (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  failed_at DATETIME(3) NOT NULL,
  KEY idx_login_failures_username_at (username, failed_at),
  KEY idx_login_failures_at (failed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE login_failures;
