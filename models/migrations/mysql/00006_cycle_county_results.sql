-- +goose Up
-- A closed cycle's counties as they were at closing (name, demonstration
-- target), so its bulletins never change when a county is renamed later.
CREATE TABLE cycle_county_results (
  cycle CHAR(7) NOT NULL,
  county_id BIGINT NOT NULL,
  code VARCHAR(6) NOT NULL,
  name VARCHAR(64) NOT NULL,
  demo_road_target INT NOT NULL,
  PRIMARY KEY (cycle, county_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE cycle_county_results;
