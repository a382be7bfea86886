import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Gateway } from '../context';
import { notFound } from '../errors';

/**
 * The operator's desk (`/ui`): static HTML, JS modules and CSS from `api/ui/`, and the charting library
 * from node_modules under `/ui/vendor/`. Public like any static page: it holds no data. The page asks for
 * a token, keeps it in sessionStorage and reads everything through the REST routes with
 * `Authorization: Bearer`, so each read and command is checked by the route's own grant.
 * Hidden from the OpenAPI document (not a REST operation).
 */

const UI_ROOT = path.join(__dirname, '..', 'ui');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Files outside api/ui/ served by name (the bundled library: no CDN). */
const LIGHTWEIGHT_CHARTS = path.dirname(require.resolve('lightweight-charts/package.json'));
const VENDOR: Record<string, string> = {
  'lightweight-charts.mjs': path.join(LIGHTWEIGHT_CHARTS, 'dist', 'lightweight-charts.standalone.production.mjs'),
};

/**
 * Scripts, styles and data from this origin only (inline style attributes allowed: the chart library sets
 * them); no eval, no inline script; the token page must not be framed.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** The file a `/ui/...` path names, or null: a known type, inside api/ui/, no dot-segments or hidden files. */
function fileOf(rest: string): string | null {
  if (rest.startsWith('vendor/')) return VENDOR[rest.slice('vendor/'.length)] ?? null;
  const name = rest === '' ? 'index.html' : rest;
  if (!/^[a-z0-9_-]+(\/[a-z0-9_-]+)*\.[a-z]+$/.test(name)) return null;
  if (!TYPES[path.extname(name)]) return null;
  const file = path.join(UI_ROOT, name);
  return file.startsWith(UI_ROOT + path.sep) ? file : null;
}

export function registerUiRoutes(app: Gateway): void {
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/', 302));

  app.get('/ui/*', { schema: { hide: true } }, async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    const file = fileOf(rest);
    let body: Buffer;
    try {
      if (!file) throw new Error('not a UI file');
      body = await readFile(file);
    } catch {
      throw notFound(`no page /ui/${rest}`);
    }
    return reply.headers({ ...SECURITY_HEADERS, 'content-type': TYPES[path.extname(file)] }).send(body);
  });
}
