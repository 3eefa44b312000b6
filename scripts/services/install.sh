#!/usr/bin/env bash
# Install the system packages the integration tests need (Debian/Ubuntu, as root):
# MariaDB, Slurm 22.05 with slurmdbd and munge, InfluxDB 1.x. Idempotent and fast when already installed:
# `apt-get update` runs only when something is missing, and only the missing packages are installed.
# Daemons are NOT started here (a policy-rc.d that blocks auto-start is written first if none exists, and
# removed again on exit, so later apt-get installs on this machine start their daemons as before);
# scripts/services/up.sh starts them on loopback from $PCM_SERVICES_DIR.
set -euo pipefail

# One list, one place: add packages here (e.g. chromium for browser tests).
PCM_APT_PACKAGES=${PCM_APT_PACKAGES:-"mariadb-server mariadb-client slurm-wlm slurmdbd slurm-client munge influxdb influxdb-client"}

log() { echo "[install] $*" >&2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in $PCM_APT_PACKAGES; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  log "all packages already installed: $PCM_APT_PACKAGES"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "missing packages: ${missing[*]}; installing them needs root (run as root or install them yourself)"
  exit 1
fi
command -v apt-get >/dev/null || { log "apt-get not found: this script supports Debian/Ubuntu only"; exit 1; }

# Keep package postinst scripts from starting the system daemons on our ports, for this run only: a
# policy-rc.d we wrote is removed on exit (one that was there before is left as it was).
POLICY_RC=${PCM_POLICY_RC:-/usr/sbin/policy-rc.d}
apt_log=
cleanup() {
  [ -z "$apt_log" ] || rm -f "$apt_log"
  if [ "${wrote_policy:-0}" = 1 ]; then rm -f "$POLICY_RC" && log "removed $POLICY_RC again"; fi
}
trap cleanup EXIT
if [ ! -e "$POLICY_RC" ]; then
  log "writing $POLICY_RC (exit 101) so packages do not auto-start daemons during this install"
  printf '#!/bin/sh\nexit 101\n' > "$POLICY_RC"
  chmod 755 "$POLICY_RC"
  wrote_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
# Update the index only if a missing package has no install candidate (never updated, or stale lists).
need_update=0
for p in "${missing[@]}"; do
  cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; break; fi
done
if [ $need_update -eq 1 ]; then
  log "apt-get update"
  apt-get update -q >/dev/null
fi
apt_log=$(mktemp /tmp/pcm-apt-install.XXXXXX)
apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}" > "$apt_log" 2>&1; }
log "installing: ${missing[*]}"
if ! apt_install; then
  if [ $need_update -eq 0 ]; then
    # stale package lists (404 on download) are the usual cause: refresh once and retry
    log "install failed; running apt-get update and retrying once"
    apt-get update -q >/dev/null
  fi
  if [ $need_update -eq 1 ] || ! apt_install; then
    tail -n 30 "$apt_log" >&2
    log "apt-get install failed (last lines above)"
    exit 1
  fi
fi
for p in "${missing[@]}"; do installed "$p" || { log "package $p still not installed"; exit 1; }; done
log "installed: ${missing[*]}"
