/**
 * `--compiled` for a bench script: the script is bundled by esbuild (as `npm run build:workers` compiles
 * the workers for production) and run again by plain node with the same arguments. Under tsx every
 * module is compiled on its own to CommonJS and each cross-module call goes through two export getters,
 * which the systems' hot paths pay on every bar; the bundle calls functions directly. Everything in the
 * script, the bare loops included, is compiled the same way, so the ratios stay like for like.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildSync } from 'esbuild';

/** The project root, also from the bundle (which runs from `.run/dist/bench/`). */
export const BENCH_ROOT = process.env.MAOTRADE_BENCH_ROOT ?? path.join(__dirname, '..');

/** Whether this process is the compiled bundle, and how it runs its TypeScript (printed with the figures). */
export const COMPILED = process.env.MAOTRADE_BENCH_ROOT !== undefined;
export const RUNNING_AS = COMPILED ? 'compiled (esbuild bundle, plain node)' : 'tsx (per-module CommonJS)';

/** With `--compiled` in argv: builds the bundle of `entry`, runs it, and exits with its status. Else returns. */
export function rerunCompiledIfAsked(entry: string): void {
  if (!process.argv.includes('--compiled') || process.env.MAOTRADE_BENCH_ROOT) return;
  const outfile = path.join(BENCH_ROOT, '.run', 'dist', 'bench', `${path.basename(entry, '.ts')}.js`);
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile, logLevel: 'warning' });
  const args = process.argv.slice(2).filter((x) => x !== '--compiled');
  const r = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit', env: { ...process.env, MAOTRADE_BENCH_ROOT: BENCH_ROOT } });
  process.exit(r.status ?? 1);
}
