/** Numbers and times as the desk shows them: UTC, grouped digits, signs on P&L. */

const num = (x) => (x === null || x === undefined || x === '' ? null : Number(x));

export function money(x) {
  const n = num(x);
  if (n === null || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** P&L with its sign and a class for its colour. */
export function pnl(x) {
  const n = num(x);
  if (n === null) return { text: '—', cls: '' };
  return { text: `${n > 0 ? '+' : ''}${money(n)}`, cls: n > 0 ? 'gain' : n < 0 ? 'loss' : '' };
}

export function price(x) {
  const n = num(x);
  if (n === null || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { maximumFractionDigits: Math.abs(n) < 1000 ? 5 : 2 });
}

export const qty = (x) => (num(x) === null ? '—' : num(x).toLocaleString('en-US', { maximumFractionDigits: 8 }));

/** Epoch ms as `2026-12-04 19:58:04` UTC. */
export function time(ms) {
  const n = num(ms);
  if (n === null) return '—';
  return new Date(n).toISOString().slice(0, 19).replace('T', ' ');
}

/** How long ago, coarse: `42 s`, `5 min`, `3 h`, `2 d`. */
export function age(ms, now = Date.now()) {
  const n = num(ms);
  if (n === null) return '—';
  const s = Math.max(0, Math.round((now - n) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
