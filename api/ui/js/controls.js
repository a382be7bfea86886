/**
 * Session controls: pause, resume, close one, close all, reducing, halt, active. Shown only to a caller
 * whose grant on the account is trader or more (the route checks it again); each asks for a reason and
 * a confirmation in a dialog before it calls the route.
 */
import { api, routes } from './api.js';
import { fill, h } from './dom.js';

const dialog = () => document.getElementById('confirm');

/** Asks for a reason and a confirmation; resolves to the reason, or null when cancelled. */
export function ask({ title, detail, confirmLabel, danger = false }) {
  const d = dialog();
  const reason = h('input', { type: 'text', name: 'reason', id: 'reason', required: true, maxlength: 500, autocomplete: 'off', placeholder: 'why (recorded with your name)' });
  return new Promise((resolve) => {
    const done = (value) => {
      resolve(value);
      d.close();
    };
    const form = h(
      'form',
      { method: 'dialog', onsubmit: (e) => { e.preventDefault(); if (reason.value.trim()) done(reason.value.trim()); } },
      h('h2', {}, title),
      h('p', {}, detail),
      h('label', { for: 'reason' }, 'Reason'),
      reason,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => done(null), 'data-testid': 'cancel' }, 'Cancel'),
        h('button', { type: 'submit', class: danger ? 'danger' : 'primary', 'data-testid': 'confirm' }, confirmLabel),
      ),
    );
    d.onclose = () => resolve(null);
    fill(d, form);
    d.showModal();
    reason.focus();
  });
}

/** The commands of an account's session, as `{ id, label, title, detail, danger, send(reason) }`. */
function commands(account) {
  const state = (to) => (reason) => api(routes.tradingState(account), { method: 'POST', body: { state: to, reason } });
  return [
    { id: 'pause', label: 'Pause', detail: 'No new entries; exits and stops keep working.', send: (reason) => api(routes.pause(account), { method: 'POST', body: { reason } }) },
    { id: 'resume', label: 'Resume', detail: 'Entries are allowed again.', send: (reason) => api(routes.resume(account), { method: 'POST', body: { reason } }) },
    { id: 'reducing', label: 'Reducing', detail: 'Only closes pass the risk engine.', send: state('reducing') },
    { id: 'halted', label: 'Halt', danger: true, detail: 'Nothing passes, a person\'s close included; broker-side stops stay in place.', send: state('halted') },
    { id: 'active', label: 'Activate', detail: 'Back to active: entries and closes pass (a protection\'s state needs an account admin).', send: state('active') },
    { id: 'close-all', label: 'Close all', danger: true, detail: 'Every open position is closed at market.', send: (reason) => api(routes.closeAll(account), { method: 'POST', body: { reason } }) },
  ];
}

/** Runs one command after asking; reports the outcome in `out`, then calls `after`. */
async function run(account, c, out, after) {
  const reason = await ask({ title: `${c.label} — ${account}`, detail: c.detail, confirmLabel: c.label, danger: c.danger });
  if (reason === null) return;
  try {
    await c.send(reason);
    fill(out, h('span', { class: 'ok' }, `${c.label}: sent (${reason})`));
  } catch (err) {
    fill(out, h('span', { class: 'error' }, `${c.label} refused: ${err.status ?? ''} ${err.message}`));
  }
  after();
}

/** The control bar of an account, or nothing when the caller may not trade it. */
export function controlBar(me, account, after) {
  if (!me.may(account, 'trader')) return h('p', { class: 'muted', 'data-testid': 'read-only' }, `Read only: you are ${me.roleOn(account) ?? 'not granted'} on ${account}.`);
  const out = h('div', { class: 'control-out', 'data-testid': 'control-out' });
  return h(
    'div',
    { class: 'controls', 'data-testid': 'controls' },
    commands(account).map((c) => h('button', { class: c.danger ? 'danger' : '', 'data-control': c.id, onclick: () => void run(account, c, out, after) }, c.label)),
    out,
  );
}

/** The close button of one position (trader only). */
export function closeButton(me, account, position, after) {
  if (!me.may(account, 'trader')) return null;
  const out = document.querySelector('[data-testid="control-out"]') ?? h('span');
  const c = {
    label: 'Close',
    danger: true,
    detail: `Close ${position.systemId}'s ${position.side} ${position.quantity} ${position.symbol} at market.`,
    send: (reason) => api(routes.closeOne(account, position.systemId), { method: 'POST', body: { reason } }),
  };
  return h('button', { class: 'small danger', 'data-control': 'close', 'data-system': position.systemId, onclick: () => void run(account, { ...c, label: `Close ${position.systemId}` }, out, after) }, 'Close');
}
