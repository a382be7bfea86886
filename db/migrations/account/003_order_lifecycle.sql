-- Issue 11: every transition of an order's lifecycle (trading/order-lifecycle.ts), and trades of partial closes.
CREATE TABLE IF NOT EXISTS order_events (
  client_order_id VARCHAR(64) NOT NULL,
  at BIGINT NOT NULL,
  from_state VARCHAR(16) NOT NULL,
  to_state VARCHAR(16) NOT NULL,
  filled_quantity DECIMAL(20,8) NOT NULL,
  fill_price DECIMAL(20,8) NOT NULL,
  reason VARCHAR(255) NULL,
  -- One row per transition: a retried outcome writes the same row again.
  PRIMARY KEY (client_order_id, to_state, at)
);
-- A position closed in parts has one trade per exit order.
ALTER TABLE trades DROP PRIMARY KEY, ADD PRIMARY KEY (position_ref, exit_client_order_id);
