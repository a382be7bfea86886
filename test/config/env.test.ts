import { ConfigError, EXIT_CONFIG, loadConfigOrExit, parseEnv, redactUrl } from '../../config/env';

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected parseEnv to throw');
}

describe('parseEnv', () => {
  it('applies every default on an empty environment', () => {
    expect(parseEnv({})).toEqual({
      logLevel: 'info',
      tradingEnable: false,
      dailyCleanTimeUtc: { hour: 23, minute: 45 },
      temporal: { address: '127.0.0.1:7233', namespace: 'default' },
      mysqlUrl: 'mysql://maotrade:maotrade@127.0.0.1:3306',
      mongoUrl: 'mongodb://127.0.0.1:27017/maologs',
      paper: { spreadBps: 1, slippageBps: 0.5, initialBalance: 100000, currency: 'USD' },
    });
  });

  it('treats blank variables as unset and ignores unrelated ones', () => {
    const c = parseEnv({ TRADING_ENABLE: '', LOG_LEVEL: '  ', PATH: '/usr/bin', HOME: '/root' });
    expect(c.tradingEnable).toBe(false);
    expect(c.logLevel).toBe('info');
  });

  it('parses explicit values', () => {
    const c = parseEnv({
      LOG_LEVEL: 'debug',
      TRADING_ENABLE: '1',
      DAILY_CLEAN_TIME: '06:05',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'maotrade',
      MYSQL_URL: 'mysql://u:p@db:3306/maohome',
      MONGO_URL: 'mongodb://a:27017,b:27017/maologs?replicaSet=rs0',
      METRICS_PORT: '9464',
      PAPER_SPREAD_BPS: '0',
      PAPER_SLIPPAGE_BPS: '2.5',
      PAPER_INITIAL_BALANCE: '5000',
      PAPER_CURRENCY: 'EUR',
    });
    expect(c).toMatchObject({
      logLevel: 'debug',
      tradingEnable: true,
      dailyCleanTimeUtc: { hour: 6, minute: 5 },
      temporal: { address: 'temporal:7233', namespace: 'maotrade' },
      mysqlUrl: 'mysql://u:p@db:3306/maohome',
      mongoUrl: 'mongodb://a:27017,b:27017/maologs?replicaSet=rs0',
      metricsPort: 9464,
      paper: { spreadBps: 0, slippageBps: 2.5, initialBalance: 5000, currency: 'EUR' },
    });
    expect(parseEnv({ TRADING_ENABLE: 'true' }).tradingEnable).toBe(true);
    expect(parseEnv({ TRADING_ENABLE: '0' }).tradingEnable).toBe(false);
  });

  it('returns a deeply frozen config', () => {
    const c = parseEnv({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.paper)).toBe(true);
    expect(Object.isFrozen(c.temporal)).toBe(true);
    expect(Object.isFrozen(c.dailyCleanTimeUtc)).toBe(true);
  });

  it.each([
    ['LOG_LEVEL', 'verbose', 'expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    ['TRADING_ENABLE', 'yes', 'expected true or false (or 1 or 0), got "yes"'],
    ['TRADING_ENABLE', 'TRUE', 'got "TRUE"'],
    ['DAILY_CLEAN_TIME', '24:00', 'expected a 24-hour time HH:MM (UTC), got "24:00"'],
    ['DAILY_CLEAN_TIME', '9:30', 'got "9:30"'],
    ['TEMPORAL_ADDRESS', 'localhost', 'expected host:port, got "localhost"'],
    ['TEMPORAL_ADDRESS', 'localhost:99999', 'expected host:port'],
    ['TEMPORAL_NAMESPACE', 'has space', 'expected a namespace name'],
    ['MYSQL_URL', 'postgres://db:5432', 'expected a mysql:// URL with a host, got "postgres://db:5432"'],
    ['MONGO_URL', 'mysql://db', 'expected a mongodb:// or mongodb+srv:// URL'],
    ['METRICS_PORT', '0', 'expected a port number 1-65535, got "0"'],
    ['METRICS_PORT', 'abc', 'got "abc"'],
    ['PAPER_SPREAD_BPS', '-1', 'expected a number >= 0 (basis points), got "-1"'],
    ['PAPER_SLIPPAGE_BPS', 'NaN', 'got "NaN"'],
    ['PAPER_INITIAL_BALANCE', '0', 'expected a number > 0, got "0"'],
    ['PAPER_CURRENCY', 'usd', 'expected a 3-letter uppercase currency code, got "usd"'],
  ])('rejects %s=%j naming the variable', (variable, value, why) => {
    const err = configError({ [variable]: value });
    expect(err.retryable).toBe(false);
    expect(err.issues).toEqual([{ variable, message: expect.stringContaining(why) }]);
    expect(err.message).toContain(`  - ${variable}: `);
    expect(err.message).toContain(why);
  });

  it('reports several bad variables together, one line each', () => {
    const err = configError({
      TRADING_ENABLE: 'yes',
      DAILY_CLEAN_TIME: '25:61',
      PAPER_CURRENCY: 'dollars',
      LOG_LEVEL: 'info',
    });
    expect(err.issues.map((i) => i.variable).sort()).toEqual(['DAILY_CLEAN_TIME', 'PAPER_CURRENCY', 'TRADING_ENABLE']);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('invalid configuration:');
    expect(lines).toContain('  - TRADING_ENABLE: expected true or false (or 1 or 0), got "yes"');
    expect(lines).toContain('  - DAILY_CLEAN_TIME: expected a 24-hour time HH:MM (UTC), got "25:61"');
    expect(lines).toHaveLength(4);
  });

  it('never puts a password from MYSQL_URL or MONGO_URL in the error', () => {
    const err = configError({
      MYSQL_URL: 'mysql://root:hunter2-pw@',
      MONGO_URL: 'postgres://admin:s3cr3t@db:5432',
      TRADING_ENABLE: 'maybe',
    });
    expect(err.message).not.toContain('hunter2-pw');
    expect(err.message).not.toContain('s3cr3t');
    expect(err.message).toContain('MYSQL_URL');
    expect(err.message).toContain('MONGO_URL: expected a mongodb:// or mongodb+srv:// URL with a host, got "postgres://admin:***@db:5432"');
    expect(err.message).toContain('TRADING_ENABLE');
  });

  it('does not echo a secret-bearing value that is not even a URL', () => {
    const err = configError({ MYSQL_URL: 'hunter2' });
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('MYSQL_URL: expected a mysql:// URL with a host (value not shown');
  });
});

describe('redactUrl', () => {
  it.each([
    ['mysql://maotrade:maotrade@127.0.0.1:3306', 'mysql://maotrade:***@127.0.0.1:3306'],
    ['mongodb://u:p%40ss@a:1,b:2/maologs?x=1', 'mongodb://u:***@a:1,b:2/maologs?x=1'],
    ['mysql://u:p@ss@host/db', 'mysql://u:***@host/db'],
    ['mysql://:only-pw@host', 'mysql://:***@host'],
    ['mongodb://user@host/db', 'mongodb://user@host/db'],
    ['mongodb://127.0.0.1:27017/maologs', 'mongodb://127.0.0.1:27017/maologs'],
    ['u:pw@host', 'u:***@host'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('loadConfigOrExit', () => {
  it('returns the config when the environment is valid', () => {
    expect(loadConfigOrExit({ TRADING_ENABLE: 'true' }).tradingEnable).toBe(true);
  });

  it('prints every problem to stderr and exits 78', () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    try {
      expect(() => loadConfigOrExit({ TRADING_ENABLE: 'yes', MYSQL_URL: 'mysql://root:topsecret@' })).toThrow('exit 78');
      expect(exit).toHaveBeenCalledWith(EXIT_CONFIG);
      const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain('invalid configuration:');
      expect(printed).toContain('TRADING_ENABLE');
      expect(printed).toContain('MYSQL_URL');
      expect(printed).not.toContain('topsecret');
    } finally {
      stderr.mockRestore();
      exit.mockRestore();
    }
  });
});
