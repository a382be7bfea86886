-- Issue 12: accounts belong to people.
-- users.role becomes the optional global role (NULL: the user acts only through account_grants); users
-- that existed keep theirs. A token may expire; a revoked user keeps its row (audit) but no token.
ALTER TABLE users
  MODIFY COLUMN role ENUM('viewer','trader','admin') NULL DEFAULT NULL,
  ADD COLUMN IF NOT EXISTS token_expires_at DATETIME(3) NULL,
  ADD COLUMN IF NOT EXISTS token_rotated_at DATETIME(3) NULL,
  ADD COLUMN IF NOT EXISTS revoked_at DATETIME(3) NULL;
-- A role per (user, account): viewer < trader < admin.
CREATE TABLE IF NOT EXISTS account_grants (
  user_id BIGINT NOT NULL,
  account VARCHAR(20) NOT NULL,
  role ENUM('viewer','trader','admin') NOT NULL,
  granted_by VARCHAR(100) NOT NULL,
  granted_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (user_id, account),
  KEY account_grants_account (account)
);
-- Every command through the gateway or the CLI: who, when, route, account, outcome. Never a token.
CREATE TABLE IF NOT EXISTS audit_log (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  user_id BIGINT NULL,
  user_name VARCHAR(100) NULL,
  via ENUM('api','cli') NOT NULL,
  route VARCHAR(200) NOT NULL,
  command VARCHAR(64) NULL,
  account VARCHAR(20) NULL,
  status_code SMALLINT NULL,
  outcome ENUM('ok','refused','failed') NOT NULL,
  detail VARCHAR(500) NULL,
  KEY audit_log_at (at),
  KEY audit_log_account_at (account, at)
);
