-- Market data: closed frames keyed by (symbol, timeframe, start), news and derived studies.
CREATE TABLE IF NOT EXISTS candles (
  symbol VARCHAR(40) NOT NULL,
  timeframe VARCHAR(4) NOT NULL,
  start BIGINT NOT NULL,
  open DECIMAL(20,8) NOT NULL,
  high DECIMAL(20,8) NOT NULL,
  low DECIMAL(20,8) NOT NULL,
  close DECIMAL(20,8) NOT NULL,
  volume DECIMAL(24,8) NOT NULL DEFAULT 0,
  PRIMARY KEY (symbol, timeframe, start),
  KEY candles_symbol_start (symbol, start)
);
CREATE TABLE IF NOT EXISTS news (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  symbol VARCHAR(40) NULL,
  published_at BIGINT NOT NULL,
  source VARCHAR(64) NOT NULL,
  headline VARCHAR(500) NOT NULL,
  body TEXT NULL,
  UNIQUE KEY news_dedupe (source, published_at, headline(190))
);
CREATE TABLE IF NOT EXISTS studies (
  symbol VARCHAR(40) NOT NULL,
  timeframe VARCHAR(4) NOT NULL,
  start BIGINT NOT NULL,
  study VARCHAR(64) NOT NULL,
  value JSON NOT NULL,
  PRIMARY KEY (symbol, timeframe, start, study)
);
