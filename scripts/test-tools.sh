#!/usr/bin/env bash
# Debian tools some tests drive as real programs: chromium (browser tests through playwright-core),
# nagios4 (`nagios4 -v` on the shipped configuration), prometheus and promtool (scrape + rule checks).
# Idempotent: installs only what is missing, in one apt run. Called by scripts/test.sh before jest.
set -Eeuo pipefail
want=()
command -v chromium >/dev/null || want+=(chromium)
command -v nagios4 >/dev/null || [[ -x /usr/sbin/nagios4 ]] || want+=(nagios4)
command -v prometheus >/dev/null || want+=(prometheus)
((${#want[@]} == 0)) && exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "installing test tools (apt): ${want[*]}"
log=$(mktemp)
if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}"; } >"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "scripts/test-tools.sh: apt-get install ${want[*]} failed" >&2
  exit 1
fi
# Debian starts the daemons it installs; the tests run their own instances, so stop the packaged ones.
for svc in prometheus nagios4 prometheus-node-exporter; do
  command -v systemctl >/dev/null && $sudo systemctl stop "$svc" >/dev/null 2>&1 || true
  command -v service >/dev/null && $sudo service "$svc" stop >/dev/null 2>&1 || true
done
rm -f "$log"
