-- One schema per account (mt_<account>): the session's durable record. Every write is an idempotent upsert.
CREATE TABLE IF NOT EXISTS orders (
  client_order_id VARCHAR(64) PRIMARY KEY,
  seq BIGINT NULL, -- NULL for orders the broker generated (a triggered protective stop)
  system_id VARCHAR(32) NOT NULL,
  symbol VARCHAR(40) NOT NULL,
  side ENUM('buy','sell') NOT NULL,
  quantity DECIMAL(20,8) NOT NULL,
  intent ENUM('open','close') NOT NULL,
  position_ref VARCHAR(64) NULL,
  stop_level DECIMAL(20,8) NULL,
  status VARCHAR(16) NOT NULL,
  broker_order_id VARCHAR(64) NULL,
  fill_price DECIMAL(20,8) NULL,
  filled_at BIGINT NULL,
  reason VARCHAR(255) NULL,
  frame_start BIGINT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY orders_seq (seq)
);
CREATE TABLE IF NOT EXISTS fills (
  client_order_id VARCHAR(64) PRIMARY KEY,
  symbol VARCHAR(40) NOT NULL,
  side ENUM('buy','sell') NOT NULL,
  quantity DECIMAL(20,8) NOT NULL,
  price DECIMAL(20,8) NOT NULL,
  filled_at BIGINT NULL
);
CREATE TABLE IF NOT EXISTS positions (
  position_ref VARCHAR(64) PRIMARY KEY,
  system_id VARCHAR(32) NOT NULL,
  symbol VARCHAR(40) NOT NULL,
  side ENUM('long','short') NOT NULL,
  quantity DECIMAL(20,8) NOT NULL,
  entry_price DECIMAL(20,8) NOT NULL,
  stop_level DECIMAL(20,8) NULL,
  opened_at BIGINT NOT NULL,
  status ENUM('open','closed') NOT NULL DEFAULT 'open',
  closed_at BIGINT NULL,
  exit_price DECIMAL(20,8) NULL,
  KEY positions_status (status)
);
CREATE TABLE IF NOT EXISTS trades (
  position_ref VARCHAR(64) PRIMARY KEY,
  exit_client_order_id VARCHAR(64) NOT NULL,
  system_id VARCHAR(32) NOT NULL,
  symbol VARCHAR(40) NOT NULL,
  side ENUM('long','short') NOT NULL,
  quantity DECIMAL(20,8) NOT NULL,
  entry_price DECIMAL(20,8) NOT NULL,
  exit_price DECIMAL(20,8) NOT NULL,
  pnl DECIMAL(20,8) NOT NULL,
  opened_at BIGINT NOT NULL,
  closed_at BIGINT NOT NULL,
  exit_reason VARCHAR(32) NOT NULL
);
CREATE TABLE IF NOT EXISTS system_states (
  system_id VARCHAR(32) PRIMARY KEY,
  system_name VARCHAR(64) NOT NULL,
  params JSON NOT NULL,
  state JSON NOT NULL,
  frame_start BIGINT NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
);
CREATE TABLE IF NOT EXISTS equity (
  ts BIGINT PRIMARY KEY,
  balance DECIMAL(20,8) NOT NULL,
  realised_pnl DECIMAL(20,8) NOT NULL,
  unrealised_pnl DECIMAL(20,8) NOT NULL,
  equity DECIMAL(20,8) NOT NULL
);
