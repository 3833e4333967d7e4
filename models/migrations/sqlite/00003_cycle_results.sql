-- +goose Up
CREATE TABLE road_demo_events (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  road_id BIGINT NOT NULL,
  from_status VARCHAR(16) NOT NULL,
  to_status VARCHAR(16) NOT NULL,
  changed_by BIGINT NOT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  changed_at DATETIME NOT NULL,
  CONSTRAINT fk_road_demo_events_road FOREIGN KEY (road_id) REFERENCES roads (id),
  CONSTRAINT fk_road_demo_events_user FOREIGN KEY (changed_by) REFERENCES users (id)
);
CREATE INDEX idx_road_demo_events_road ON road_demo_events (road_id, id);

CREATE TABLE closed_cycles (
  cycle CHAR(7) NOT NULL PRIMARY KEY,
  closed_at DATETIME NOT NULL,
  closed_by VARCHAR(64) NOT NULL
);

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
  PRIMARY KEY (cycle, merchant_id)
);
CREATE INDEX idx_cycle_merchant_results_county ON cycle_merchant_results (cycle, county_id, score);

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
  PRIMARY KEY (cycle, road_id)
);
CREATE INDEX idx_cycle_road_results_county ON cycle_road_results (cycle, county_id);

-- +goose Down
DROP TABLE cycle_road_results;
DROP TABLE cycle_merchant_results;
DROP TABLE closed_cycles;
DROP TABLE road_demo_events;
