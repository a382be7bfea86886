-- Submissions sent to brokers that keep no lasting index of client references (IG): written before the
-- request leaves, so a retry can tell "never sent" (safe to send) from "sent, outcome not yet visible"
-- (look up again, never re-send blindly). See brokers/ig/journal.ts.
CREATE TABLE IF NOT EXISTS broker_submissions (
  broker VARCHAR(32) NOT NULL,
  account VARCHAR(64) NOT NULL,
  client_order_id VARCHAR(64) NOT NULL,
  -- When the request was (about to be) sent, epoch ms.
  posted_at_ms BIGINT NOT NULL,
  -- The reference the broker assigned itself (IG: the dealReference of a position close).
  broker_ref VARCHAR(64) NULL,
  -- The broker's id of the resulting deal once known (IG: the dealId of an opened position).
  broker_deal_id VARCHAR(64) NULL,
  -- For a close: the broker id of the position it closes (IG: the position's dealId).
  target_deal_id VARCHAR(64) NULL,
  PRIMARY KEY (broker, account, client_order_id)
);
