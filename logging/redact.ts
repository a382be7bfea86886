/**
 * Credential redaction at any depth, for every log line (invariants 9 and 13): pino's path redaction
 * reaches only the paths it is given, so the logger also passes each line's object through
 * `redactDeep`, which walks it (error objects and their causes too) and replaces the value of every
 * key that names a credential, whatever its case or spelling (`X-IG-API-KEY`, `x-ig-api-key`, `CST`,
 * `X-SECURITY-TOKEN`, `APCA-API-SECRET-KEY`, `secretKey`, `keyId`, `password`, `authorization`, ...).
 *
 * Cheap for normal lines: nothing is copied unless something is redacted (copy on write), key verdicts
 * are cached. Bounded for abnormal ones: a cycle becomes `[Circular]`, anything deeper than
 * MAX_DEPTH or past MAX_NODES objects becomes a marker, so a line never carries an unchecked value.
 */

export const REDACTED = '[redacted]';
export const CIRCULAR = '[Circular]';
export const TOO_DEEP = '[too deep]';
export const TOO_MANY = '[too many objects]';

const MAX_DEPTH = 12;
const MAX_NODES = 5_000;

/** Normalised (lower case, letters and digits only) names that are credentials wherever they occur in a key. */
const SECRET_PARTS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'keyid', 'authorization', 'cookie', 'credential', 'privatekey'];
/** Normalised names that are credentials only as the whole key (as parts they occur in harmless words). */
const SECRET_NAMES = new Set(['cst', 'pwd', 'pin', 'auth', 'mysqlurl', 'mongourl', 'databaseurl', 'dsn']);

const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 10_000;

/** Whether a field or header name names a credential: `X-IG-API-KEY`, `cst`, `alpaca.secretKey`'s `secretKey`, ... */
export function isSecretKey(key: string): boolean {
  let v = verdicts.get(key);
  if (v === undefined) {
    const n = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    v = SECRET_NAMES.has(n) || SECRET_PARTS.some((p) => n.includes(p));
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    verdicts.set(key, v);
  }
  return v;
}

interface Walk {
  nodes: number;
  /** Objects being walked (on the current path): met again, they are a cycle. */
  active: Set<object>;
  /** Objects already walked and what they became (shared references are walked once). */
  done: Map<object, unknown>;
}

/** A value under a credential's key: hidden unless it cannot carry one. */
const hide = (v: unknown): unknown => (v === null || v === undefined || typeof v === 'boolean' || v === REDACTED ? v : REDACTED);

/** Values JSON writes without looking inside (or as `{}`), so nothing to check. */
function opaque(v: object): boolean {
  return v instanceof Date || v instanceof RegExp || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Map || v instanceof Set || v instanceof Promise;
}

/** The value with every credential replaced by REDACTED; the same reference when there was nothing to replace. */
export function redactDeep<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  return walk(value, 0, { nodes: 0, active: new Set(), done: new Map() }) as T;
}

function walk(v: unknown, depth: number, w: Walk): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (w.active.has(v)) return CIRCULAR;
  if (w.done.has(v)) return w.done.get(v);
  if (opaque(v)) return v;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (++w.nodes > MAX_NODES) return TOO_MANY;
  w.active.add(v);
  let out: unknown;
  try {
    if (Array.isArray(v)) out = walkArray(v, depth, w);
    else if (v instanceof Error) out = walkError(v, depth, w);
    else if (typeof (v as { toJSON?: unknown }).toJSON === 'function') out = walkToJson(v, depth, w);
    else out = walkObject(v as Record<string, unknown>, depth, w);
  } finally {
    w.active.delete(v);
  }
  w.done.set(v, out);
  return out;
}

/** Elements walked; a string element naming a credential hides the next one (`rawHeaders: ['CST', '…']`). */
function walkArray(a: unknown[], depth: number, w: Walk): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < a.length; i++) {
    const prev = a[i - 1];
    const r = i > 0 && typeof prev === 'string' && prev.length < 64 && typeof a[i] === 'string' && isSecretKey(prev) ? hide(a[i]) : walk(a[i], depth + 1, w);
    if (r !== a[i] && !out) out = a.slice(0, i);
    if (out) out.push(r);
  }
  return out ?? a;
}

function walkObject(o: Record<string, unknown>, depth: number, w: Walk): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    let val: unknown;
    try {
      val = o[k];
    } catch {
      continue; // a throwing getter: JSON.stringify would fail on it too
    }
    const r = isSecretKey(k) ? hide(val) : walk(val, depth + 1, w);
    if (r !== val && !out) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = o[keys[j]];
    }
    if (out) out[k] = r;
  }
  return out ?? o;
}

/** An object JSON writes through its toJSON (an HTTP library's headers, say): what toJSON gives is checked. */
function walkToJson(v: object, depth: number, w: Walk): unknown {
  let j: unknown;
  try {
    j = (v as { toJSON(): unknown }).toJSON();
  } catch {
    return v;
  }
  if (j === null || typeof j !== 'object') return v;
  const r = walk(j, depth, w);
  return r === j ? v : r;
}

/**
 * An error: its own properties (enumerable ones, which pino's error serializer prints, and `cause` /
 * `errors`) are checked; when one changes, a copy with the same prototype, message and stack is returned,
 * so the serializer still prints its type, message, stack and causes.
 */
function walkError(e: Error, depth: number, w: Walk): Error {
  const keys = Reflect.ownKeys(e);
  const descriptors: [string | symbol, PropertyDescriptor][] = [];
  let changed = false;
  for (const k of keys) {
    const d = Object.getOwnPropertyDescriptor(e, k)!;
    if (typeof k === 'string' && 'value' in d && k !== 'message' && k !== 'stack' && (d.enumerable || k === 'cause' || k === 'errors')) {
      const r = isSecretKey(k) ? hide(d.value) : walk(d.value, depth + 1, w);
      if (r !== d.value) {
        changed = true;
        descriptors.push([k, { ...d, value: r }]);
        continue;
      }
    }
    descriptors.push([k, d]);
  }
  if (!changed) return e;
  const copy = Object.create(Object.getPrototypeOf(e) as object) as Error;
  for (const [k, d] of descriptors) Object.defineProperty(copy, k, d);
  return copy;
}
