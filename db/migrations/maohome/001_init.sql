-- Users, the accounts they own, tradable symbols and each account's system configuration.
CREATE TABLE IF NOT EXISTS users (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL UNIQUE,
  email VARCHAR(190) NULL,
  role ENUM('viewer','trader','admin') NOT NULL DEFAULT 'viewer',
  token_hash CHAR(64) NULL UNIQUE,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
);
CREATE TABLE IF NOT EXISTS accounts (
  account VARCHAR(20) PRIMARY KEY,
  owner_user_id BIGINT NULL,
  broker VARCHAR(32) NOT NULL,
  currency CHAR(3) NOT NULL DEFAULT 'USD',
  description VARCHAR(255) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
);
CREATE TABLE IF NOT EXISTS symbols (
  symbol VARCHAR(40) PRIMARY KEY,
  name VARCHAR(100) NULL,
  asset_class VARCHAR(20) NOT NULL DEFAULT 'fx',
  min_size DECIMAL(20,8) NOT NULL DEFAULT 0,
  size_step DECIMAL(20,8) NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS system_configs (
  account VARCHAR(20) NOT NULL,
  system_id VARCHAR(32) NOT NULL,
  system_name VARCHAR(64) NOT NULL,
  symbol VARCHAR(40) NOT NULL,
  timeframe VARCHAR(4) NOT NULL,
  params JSON NOT NULL,
  enabled TINYINT(1) NOT NULL DEFAULT 1,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (account, system_id)
);
