import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * The project root (the folder of package.json), found from this file's folder upwards: this module runs
 * from `workers/` under tsx and from `.run/dist/` once the workers are compiled (`npm run build:workers`).
 */
export function projectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The workflows' entry module, bundled by webpack (which compiles the TypeScript itself). */
export const WORKFLOWS_PATH = path.join(projectRoot(), 'workflows', 'index.ts');

/**
 * Bundles the workflow code once to a file, so workers that restart (crash tests, resume timing)
 * skip the webpack step. Rebuilt when any workflow-side source is newer than the bundle.
 */
export async function ensureWorkflowBundle(outPath: string): Promise<string> {
  const root = projectRoot();
  const sources = ['workflows', 'systems', 'market', 'trading', 'brokers', 'risk']
    .flatMap((d) => fs.readdirSync(path.join(root, d), { recursive: true }).map((f) => path.join(root, d, String(f))))
    .filter((f) => f.endsWith('.ts'));
  const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs));
  if (fs.existsSync(outPath) && fs.statSync(outPath).mtimeMs > newest) return outPath;
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, outPath);
  return outPath;
}
