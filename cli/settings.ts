import { parseEnv, type AppConfig } from '../config/env';
import { tableStyle } from './terminal';

/**
 * The CLI reads the same environment as the workers (TEMPORAL_ADDRESS, MYSQL_URL, ...); options on the
 * command line override it. A bad variable is reported by `parseEnv` naming it.
 */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return parseEnv(env);
}

/** Seconds option → milliseconds, validated. */
export function secondsOption(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a number of seconds > 0, got "${value}"`);
  return n * 1000;
}

/** cli-table3 colours only on a terminal and never with NO_COLOR (cli/terminal.ts): piped output stays plain text. */
export function plainStyle(): { head: string[]; border: string[] } | undefined {
  return tableStyle();
}
