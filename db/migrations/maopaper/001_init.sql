-- The paper venue's own ledger: it is the "broker" of paper accounts, independent of the sessions' stores.
CREATE TABLE IF NOT EXISTS accounts (
  account VARCHAR(20) PRIMARY KEY,
  currency CHAR(3) NOT NULL,
  initial_balance DECIMAL(20,8) NOT NULL,
  balance DECIMAL(20,8) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
);
CREATE TABLE IF NOT EXISTS orders (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  account VARCHAR(20) NOT NULL,
  client_order_id VARCHAR(64) NOT NULL,
  symbol VARCHAR(40) NOT NULL,
  side ENUM('buy','sell') NOT NULL,
  quantity DECIMAL(20,8) NOT NULL,
  intent ENUM('open','close') NOT NULL,
  position_ref VARCHAR(64) NULL,
  stop_level DECIMAL(20,8) NULL,
  status ENUM('filled','rejected') NOT NULL,
  fill_price DECIMAL(20,8) NOT NULL DEFAULT 0,
  filled_at BIGINT NULL,
  reason VARCHAR(255) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY orders_client_id (account, client_order_id)
);
CREATE TABLE IF NOT EXISTS positions (
  account VARCHAR(20) NOT NULL,
  position_ref VARCHAR(64) NOT NULL,
  symbol VARCHAR(40) NOT NULL,
  side ENUM('long','short') NOT NULL,
  quantity DECIMAL(20,8) NOT NULL,
  entry_price DECIMAL(20,8) NOT NULL,
  stop_level DECIMAL(20,8) NULL,
  opened_candle_start BIGINT NOT NULL,
  -- frames up to this start have been checked against the stop (so each frame is checked once)
  stop_checked_through BIGINT NOT NULL,
  status ENUM('open','closed') NOT NULL DEFAULT 'open',
  exit_price DECIMAL(20,8) NULL,
  closed_by VARCHAR(64) NULL,
  pnl DECIMAL(20,8) NULL,
  PRIMARY KEY (account, position_ref),
  KEY positions_open (account, status, symbol)
);
