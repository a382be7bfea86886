#!/usr/bin/env bash
# The peer engines for `npm run bench:peers`, pinned, in a venv of their own (.bench-venv, git-ignored).
# Idempotent: does nothing when the venv already has them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.bench-venv"
PKGS=(backtrader==1.9.78.123 nautilus_trader==1.221.0)
if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import backtrader, nautilus_trader' 2>/dev/null; then exit 0; fi
echo "installing ${PKGS[*]} into .bench-venv (once)"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet "${PKGS[@]}"
