-- Issue 6: what the risk engine refused, who changed the trading state, and the session's emulated working orders.
CREATE TABLE IF NOT EXISTS risk_refusals (
  refusal_id VARCHAR(64) PRIMARY KEY,
  system_id VARCHAR(32) NOT NULL,
  symbol VARCHAR(40) NOT NULL,
  side ENUM('buy','sell') NOT NULL,
  quantity DECIMAL(20,8) NOT NULL,
  intent ENUM('open','close') NOT NULL,
  rule VARCHAR(40) NOT NULL,
  detail VARCHAR(500) NOT NULL,
  numbers JSON NOT NULL,
  frame_start BIGINT NULL,
  at BIGINT NOT NULL,
  KEY risk_refusals_rule (rule, at)
);
CREATE TABLE IF NOT EXISTS control_events (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  kind VARCHAR(32) NOT NULL,
  from_state VARCHAR(16) NULL,
  to_state VARCHAR(16) NULL,
  by_who VARCHAR(100) NOT NULL,
  reason VARCHAR(500) NOT NULL,
  source VARCHAR(32) NOT NULL
);
CREATE TABLE IF NOT EXISTS working_orders (
  ref VARCHAR(64) PRIMARY KEY,
  system_id VARCHAR(32) NOT NULL,
  symbol VARCHAR(40) NOT NULL,
  side ENUM('buy','sell') NOT NULL,
  quantity DECIMAL(20,8) NOT NULL,
  type ENUM('limit','stop') NOT NULL,
  price DECIMAL(20,8) NOT NULL,
  stop_level DECIMAL(20,8) NULL,
  take_profit DECIMAL(20,8) NULL,
  trailing_stop DECIMAL(20,8) NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NULL,
  status VARCHAR(16) NOT NULL,
  client_order_id VARCHAR(64) NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
);
-- Plain ADD COLUMN (MySQL 8 has no IF NOT EXISTS here); umzug runs each migration once.
ALTER TABLE positions ADD COLUMN take_profit DECIMAL(20,8) NULL AFTER stop_level, ADD COLUMN trailing_stop DECIMAL(20,8) NULL AFTER take_profit;
