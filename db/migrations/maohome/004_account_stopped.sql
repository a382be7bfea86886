-- A session stopped through the gateway stays stopped: the feeder's signal-with-start skips an account
-- whose stopped_at is set; starting the session again through the gateway clears it.
ALTER TABLE accounts
  ADD COLUMN IF NOT EXISTS stopped_at DATETIME(3) NULL,
  ADD COLUMN IF NOT EXISTS stopped_by VARCHAR(100) NULL,
  ADD COLUMN IF NOT EXISTS stopped_reason VARCHAR(600) NULL;
