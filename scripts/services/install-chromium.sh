#!/usr/bin/env bash
# Headless Chromium for the dashboard's end-to-end test (test/integration/dashboard.test.ts), from Debian:
# installs the `chromium` package when /usr/bin/chromium is missing; a no-op otherwise.
#   install-chromium.sh          install if missing, then print the version
# The test drives it with npm `playwright-core` (no browser download): executablePath /usr/bin/chromium.
set -euo pipefail
PCM_SVC=chromium
source "$(dirname "$0")/lib.sh"

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  need_root
  svc_log "installing Debian chromium (not found at $CHROMIUM)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
[ -x "$CHROMIUM" ] || die "chromium still missing at $CHROMIUM after apt-get install"
svc_log "$("$CHROMIUM" --version 2>/dev/null || echo "chromium at $CHROMIUM")"
