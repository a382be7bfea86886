/**
 * The desk's router: `#/login`, `#/fleet`, `#/account/<id>`, `#/backtest`. Each page module renders
 * into #view and returns a stop function (its polling, its charts), called when the page changes.
 */
import { token, whenUnauthorized, whoAmI } from './api.js';
import { fill, h } from './dom.js';
import * as login from './login.js';
import * as fleet from './fleet.js';
import * as account from './account.js';
import * as backtest from './backtest.js';

const view = document.getElementById('view');
const who = document.getElementById('who');
let stopPage = () => {};
let me = null;
/** The page shown: a refused token on the login page is that page's to report. */
let current = null;

export const navigate = (hash) => {
  if (location.hash === hash) void route();
  else location.hash = hash;
};

function logout() {
  token.clear();
  me = null;
  navigate('#/login');
}

whenUnauthorized(() => {
  token.clear();
  me = null;
  if (current !== 'login' && current !== 'backtest') navigate('#/login?expired=1');
});

function showWho() {
  if (!me) return fill(who);
  const roles = [me.globalRole ? `global ${me.globalRole}` : null, ...me.grants.map((g) => `${g.role} of ${g.account}`)].filter(Boolean);
  fill(who, h('span', { 'data-testid': 'user', title: roles.join(', ') || 'no grants' }, me.name), h('button', { class: 'link', onclick: logout }, 'Log out'));
}

async function route() {
  stopPage();
  stopPage = () => {};
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === parts[0]);
  current = parts[0] === 'backtest' ? 'backtest' : !token.get() || parts[0] === 'login' ? 'login' : parts[0] === 'account' ? 'account' : 'fleet';
  if (parts[0] === 'backtest') {
    stopPage = backtest.render(view) ?? (() => {});
    return;
  }
  if (!token.get() || parts[0] === 'login') {
    me = null;
    showWho();
    stopPage = login.render(view, { query: new URLSearchParams(query), onLogin: () => navigate('#/fleet') }) ?? (() => {});
    return;
  }
  try {
    me ??= await whoAmI();
  } catch (err) {
    fill(view, h('p', { class: 'error' }, `Could not read who you are: ${err.message}`));
    return;
  }
  showWho();
  if (parts[0] === 'account' && parts[1]) stopPage = account.render(view, { me, account: decodeURIComponent(parts[1]) });
  else stopPage = fleet.render(view, { me });
}

window.addEventListener('hashchange', () => void route());
void route();
