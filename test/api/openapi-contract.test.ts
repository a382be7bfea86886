/**
 * The REST contract (issue 14 item 6): the OpenAPI document is valid OpenAPI 3.0.3 (swagger-parser),
 * every operation documents a typed 2xx body and its error bodies, and live bodies of representative
 * routes (200s of each read family, 400/401/403/404 errors) validate against the schema the document
 * gives for their path, method and status (ajv; OpenAPI's `nullable` honoured). Real MariaDB, FerretDB, Temporal.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { Client, Connection } from '@temporalio/client';
import { createPool, type Pool } from '../../db/pool';
import { HomeStore } from '../../db/home-store';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { temporalClient } from '../support/harness';
import { startTestGateway, type TestGateway, type TestResponse } from './support';

let pool: Pool;
let client: Client;
let connection: Connection;
let gw: TestGateway;
let doc: any;
const account = uniqueAccount('oac');
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

beforeAll(async () => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  ({ client, connection } = await temporalClient());
  gw = await startTestGateway({ client, pool });
  await new HomeStore(pool).upsertAccount({ account, broker: 'paper', currency: 'USD' });
  // One audit row at least: a refused command.
  await gw.call('viewer', 'POST', `/sessions/${account}/pause`, {});
  doc = (await gw.call(null, 'GET', '/openapi.json')).json();
});

afterAll(async () => {
  await pool?.query('DELETE FROM maohome.accounts WHERE account = ?', [account]);
  await gw?.close();
  await connection?.close();
  await pool?.end();
});

/**
 * SwaggerParser.validate in a child node: swagger-parser loads an ES module that jest cannot `require`
 * (node itself can). Resolves with its error message, or '' when the document is valid.
 */
async function swaggerValidate(document: unknown): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(document));
  const script = "require('@apidevtools/swagger-parser').validate(process.argv[1]).then(() => {}, (e) => { process.stdout.write(String(e.message)); process.exitCode = 1; })";
  try {
    await promisify(execFile)(process.execPath, ['-e', script, file], { cwd: process.cwd() });
    return '';
  } catch (err) {
    return (err as { stdout?: string }).stdout || String(err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ path, method, op })),
  );
const schemaOf = (r: any) => r?.content?.['application/json']?.schema ?? r?.content?.['application/gzip']?.schema;

/** Errors of `body` against the documented schema of path/method/status; [] when it conforms. */
function violations(path: string, method: string, status: number, body: unknown): string[] {
  const schema = schemaOf(doc.paths[path]?.[method]?.responses?.[String(status)]);
  if (!schema) return [`no documented ${status} response for ${method.toUpperCase()} ${path}`];
  const validate = ajv.compile(schema);
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

function expectConforms(path: string, method: string, res: TestResponse, status: number): void {
  expect(res.statusCode).toBe(status);
  expect({ route: `${method.toUpperCase()} ${path} ${status}`, violations: violations(path, method, status, res.json()) }).toEqual({
    route: `${method.toUpperCase()} ${path} ${status}`,
    violations: [],
  });
}

test('the document is valid OpenAPI 3.0.3 and every operation has a typed 2xx body and error bodies', async () => {
  expect(doc.openapi).toBe('3.0.3');
  expect(await swaggerValidate(doc)).toBe('');
  // The validator can fail: a document without info is refused.
  expect(await swaggerValidate({ ...doc, info: undefined })).not.toBe('');
  const ops = operations();
  expect(ops.length).toBeGreaterThanOrEqual(31);
  for (const { path, method, op } of ops) {
    const statuses = Object.keys(op.responses ?? {});
    const ok = statuses.filter((s) => /^2\d\d$/.test(s));
    expect({ op: `${method} ${path}`, ok: ok.length > 0 && ok.every((s) => schemaOf(op.responses[s]) !== undefined) }).toEqual({ op: `${method} ${path}`, ok: true });
    for (const s of ['400', '401', '403', '404', '429', '500']) {
      const schema = schemaOf(op.responses[s]);
      expect({ op: `${method} ${path} ${s}`, required: schema?.required }).toEqual({ op: `${method} ${path} ${s}`, required: ['error', 'message'] });
    }
  }
  expect(Object.keys(doc.paths['/sessions'].post.responses)).toEqual(expect.arrayContaining(['201', '409', '422']));
  expect(Object.keys(doc.paths['/logs/download'].get.responses['200'].content)).toEqual(['application/gzip']);
});

test('live 200 bodies of each read family conform to the document', async () => {
  expectConforms('/accounts', 'get', await gw.call('admin', 'GET', '/accounts'), 200);
  expectConforms('/sessions', 'get', await gw.call('admin', 'GET', '/sessions'), 200);
  expectConforms('/users', 'get', await gw.call('admin', 'GET', '/users'), 200);
  expectConforms('/audit', 'get', await gw.call('admin', 'GET', `/audit?account=${account}`), 200);
  expectConforms('/logs', 'get', await gw.call('admin', 'GET', '/logs?limit=20'), 200);
  expectConforms('/me', 'get', await gw.call('viewer', 'GET', '/me'), 200);
  const audit = (await gw.call('admin', 'GET', `/audit?account=${account}`)).json();
  expect(audit.entries.length).toBeGreaterThan(0);
});

test('live error bodies (400, 401, 403, 404) conform to the document', async () => {
  expectConforms('/logs', 'get', await gw.call('viewer', 'GET', '/logs?limit=0'), 400);
  expectConforms('/accounts', 'get', await gw.call(null, 'GET', '/accounts'), 401);
  expectConforms('/users', 'get', await gw.call('viewer', 'GET', '/users'), 403);
  expectConforms('/accounts/{account}/orders', 'get', await gw.call('admin', 'GET', `/accounts/${uniqueAccount('oacx')}/orders`), 404);
});

test('the validator rejects a body that breaks the documented schema', () => {
  expect(violations('/users', 'get', 200, { users: [{ name: 1 }] }).length).toBeGreaterThan(0);
  expect(violations('/me', 'get', 200, { name: 'x', globalRole: 'root', grants: [] }).length).toBeGreaterThan(0);
  expect(violations('/me', 'get', 200, { name: 'x', globalRole: null, grants: [] })).toEqual([]);
  expect(violations('/accounts', 'get', 401, { message: 'no code' }).length).toBeGreaterThan(0);
});
