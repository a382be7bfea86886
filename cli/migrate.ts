import { migrateSchema, type SchemaKind } from '../db/migrate';
import { redactUrl } from '../config/env';

/** The shared schemas, in the order `migrateShared` (db/migrate.ts) applies them. */
export const SHARED_SCHEMAS: readonly SchemaKind[] = ['maohome', 'maodata', 'maopaper'];

/**
 * `maotrade migrate`: what `migrateShared` does, one schema at a time with a progress line each
 * (`[i/n] schema: applied ...` or `up to date`), plus `mt_<account>` for each `--account`.
 */
export async function runMigrate(mysqlUrl: string, accounts: string[], write: (line: string) => void): Promise<void> {
  const targets: { kind: SchemaKind; account?: string; label: string }[] = [
    ...SHARED_SCHEMAS.map((kind) => ({ kind, label: kind })),
    ...accounts.map((account) => ({ kind: 'account' as const, account, label: `mt_${account}` })),
  ];
  write(`migrating ${targets.length} schema(s) on ${redactUrl(mysqlUrl)}`);
  for (const [i, t] of targets.entries()) {
    const started = Date.now();
    const applied = await migrateSchema(mysqlUrl, t.kind, t.account);
    const took = `${Date.now() - started} ms`;
    write(`[${i + 1}/${targets.length}] ${t.label}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'} (${took})`);
  }
}
