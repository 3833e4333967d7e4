-- +goose Up
CREATE TABLE road_demo_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  road_id BIGINT NOT NULL,
  from_status VARCHAR(16) NOT NULL,
  to_status VARCHAR(16) NOT NULL,
  changed_by BIGINT NOT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  changed_at DATETIME(3) NOT NULL,
  KEY idx_road_demo_events_road (road_id, id),
  CONSTRAINT fk_road_demo_events_road FOREIGN KEY (road_id) REFERENCES roads (id),
  CONSTRAINT fk_road_demo_events_user FOREIGN KEY (changed_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE closed_cycles (
  cycle CHAR(7) NOT NULL PRIMARY KEY,
  closed_at DATETIME(3) NOT NULL,
  closed_by VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE cycle_merchant_results (
  cycle CHAR(7) NOT NULL,
  merchant_id BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  road_id BIGINT NOT NULL,
  code VARCHAR(8) NOT NULL,
  name VARCHAR(128) NOT NULL,
  road_name VARCHAR(64) NOT NULL,
  score INT NOT NULL,
  star INT NOT NULL,
  rated_star INT NOT NULL,
  deductions INT NOT NULL,
  bonuses INT NOT NULL,
  serious INT NOT NULL,
  inspected BOOLEAN NOT NULL,
  PRIMARY KEY (cycle, merchant_id),
  KEY idx_cycle_merchant_results_county (cycle, county_id, score)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE cycle_road_results (
  cycle CHAR(7) NOT NULL,
  road_id BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  name VARCHAR(64) NOT NULL,
  demo_status VARCHAR(16) NOT NULL,
  score_cents BIGINT NOT NULL,
  merchants INT NOT NULL,
  qualified BOOLEAN NOT NULL,
  failing VARCHAR(255) NOT NULL DEFAULT '',
  metrics TEXT NOT NULL,
  PRIMARY KEY (cycle, road_id),
  KEY idx_cycle_road_results_county (cycle, county_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE cycle_road_results;
DROP TABLE cycle_merchant_results;
DROP TABLE closed_cycles;
DROP TABLE road_demo_events;
