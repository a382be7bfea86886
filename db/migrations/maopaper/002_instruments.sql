-- Trading details of the paper venue's symbols (pre-trade instrument checks). A symbol without a row is
-- tradable with no minimum and no step; the venue reports any symbol it has no price for as CLOSED.
CREATE TABLE IF NOT EXISTS instruments (
  symbol VARCHAR(40) PRIMARY KEY,
  min_quantity DECIMAL(20,8) NOT NULL DEFAULT 0,
  quantity_step DECIMAL(20,8) NOT NULL DEFAULT 0,
  tradable TINYINT NOT NULL DEFAULT 1,
  market_status VARCHAR(20) NOT NULL DEFAULT 'TRADEABLE'
);
