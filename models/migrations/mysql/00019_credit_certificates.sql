-- +goose Up
-- Credit certificates (信用证明, issue 15): a merchant prints its star and
-- score as of the day of issue, with a QR code to the public verification
-- page /v/{token}. The token is the serial and an HMAC of the serial and of
-- what the certificate says (shop code and name, star, score, cycle, time of
-- issue), so a made-up serial or an edited row does not verify. The county
-- admin may revoke one (revoked_at, revoked_by, the reason in the audit log).
CREATE TABLE credit_certificates (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  serial CHAR(8) NOT NULL,
  merchant_id BIGINT NOT NULL,
  county_id BIGINT NOT NULL,
  merchant_code CHAR(8) NOT NULL,
  merchant_name VARCHAR(128) NOT NULL,
  star INT NOT NULL,
  score INT NOT NULL,
  cycle CHAR(7) NOT NULL,
  issued_by BIGINT NOT NULL,
  issued_at DATETIME(3) NOT NULL,
  revoked_by BIGINT NULL,
  revoked_at DATETIME(3) NULL,
  CONSTRAINT uq_credit_certificates_serial UNIQUE (serial),
  KEY idx_credit_certificates_merchant (merchant_id, id),
  CONSTRAINT fk_credit_certificates_merchant FOREIGN KEY (merchant_id) REFERENCES merchants (id),
  CONSTRAINT fk_credit_certificates_county FOREIGN KEY (county_id) REFERENCES counties (id),
  CONSTRAINT fk_credit_certificates_issuer FOREIGN KEY (issued_by) REFERENCES users (id),
  CONSTRAINT fk_credit_certificates_revoker FOREIGN KEY (revoked_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Certificates join the county change versions (see 00013 and 00015): the
-- merchant's and the console's shop pages list them. Logged under merchant
-- -1, like accounts: no shop's score or standing changes.
-- +goose StatementBegin
CREATE TRIGGER credit_certificates_ai AFTER INSERT ON credit_certificates FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER credit_certificates_au AFTER UPDATE ON credit_certificates FOR EACH ROW
BEGIN
  UPDATE county_versions SET version = version + 1 WHERE county_id = NEW.county_id;
  INSERT INTO county_changes (county_id, version, merchant_id)
    SELECT county_id, version, -1 FROM county_versions WHERE county_id = NEW.county_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER credit_certificates_au;
DROP TRIGGER credit_certificates_ai;
DROP TABLE credit_certificates;
