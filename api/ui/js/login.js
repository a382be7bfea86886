/** The login page: paste an API token; it is checked with GET /me and kept in sessionStorage. */
import { token, whoAmI } from './api.js';
import { fill, h } from './dom.js';

export function render(root, { query, onLogin }) {
  const input = h('input', { type: 'password', name: 'token', id: 'token', autocomplete: 'off', spellcheck: 'false', placeholder: 'mao_…', required: true });
  const message = h('p', { class: 'error', 'data-testid': 'login-error' }, query.get('expired') ? 'Your token was refused (expired, revoked or unknown). Paste a valid one.' : '');
  const submit = async (event) => {
    event.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    token.set(t);
    try {
      await whoAmI();
      onLogin();
    } catch (err) {
      token.clear();
      fill(message, err.status === 401 ? 'This token is not valid (unknown, revoked or expired).' : `Login failed: ${err.message}`);
    }
  };
  fill(
    root,
    h(
      'section',
      { class: 'panel login' },
      h('h1', {}, 'Sign in'),
      h('p', {}, 'Paste your API token (from ', h('code', {}, 'maotrade users create'), ' or an admin). It stays in this tab only and is sent as ', h('code', {}, 'Authorization: Bearer'), ' to the gateway.'),
      h('form', { onsubmit: submit }, h('label', { for: 'token' }, 'API token'), input, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
      message,
    ),
  );
  input.focus();
}
