/**
 * Compiles the worker entry points to plain JavaScript in `.run/dist/` (esbuild; dependencies stay in
 * node_modules), with the migrations beside them. A compiled worker starts without compiling TypeScript,
 * which is most of what a restart after a crash costs (bench/README.md, resume).
 *   npm run build:workers
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from './workflow-bundle';

export const DIST_DIR = path.join(projectRoot(), '.run', 'dist');

export async function buildWorkers(outdir: string = DIST_DIR): Promise<void> {
  const root = projectRoot();
  await build({
    entryPoints: [path.join(root, 'workers', 'session-worker.ts'), path.join(root, 'workers', 'broker-worker.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outdir,
    logLevel: 'warning',
  });
  // db/migrate.ts reads its SQL files from beside the running code.
  fs.rmSync(path.join(outdir, 'migrations'), { recursive: true, force: true });
  fs.cpSync(path.join(root, 'db', 'migrations'), path.join(outdir, 'migrations'), { recursive: true });
}

if (require.main === module) {
  buildWorkers().catch((err) => {
    process.stderr.write(`build:workers failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
