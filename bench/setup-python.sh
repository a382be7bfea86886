#!/usr/bin/env bash
# The peer engines for `npm run bench:peers`, pinned, in venvs of their own (git-ignored): .bench-venv for
# backtrader and NautilusTrader, .bench-venv/vbt for vectorbt and its Rust engine (vectorbt 1.2 needs
# pandas >= 3, NautilusTrader 1.221 pandas < 3: one venv cannot hold both). Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.bench-venv"
PKGS=(backtrader==1.9.78.123 nautilus_trader==1.221.0)
VBT_PKGS=(vectorbt==1.2.0 vectorbt-rust==1.2.0)
if ! { [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import backtrader, nautilus_trader' 2>/dev/null; }; then
  echo "installing ${PKGS[*]} into .bench-venv (once)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "${PKGS[@]}"
fi
if ! { [[ -x $VENV/vbt/bin/python ]] && "$VENV/vbt/bin/python" -c 'import vectorbt, vectorbt_rust' 2>/dev/null; }; then
  echo "installing ${VBT_PKGS[*]} into .bench-venv/vbt (once)"
  python3 -m venv "$VENV/vbt"
  "$VENV/vbt/bin/pip" install --quiet "${VBT_PKGS[@]}"
fi
