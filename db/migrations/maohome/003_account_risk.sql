-- Issue 6: each account's risk limits, protections and trading-day schedule (validated by the session's zod schemas).
ALTER TABLE accounts ADD COLUMN risk_config JSON NULL;
