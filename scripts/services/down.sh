#!/usr/bin/env bash
# Stop every test service (Slurm, InfluxDB, MariaDB, in that order) and remove env.sh.
# Never fails because something is already stopped; exits non-zero only if a daemon could not be stopped.
set -uo pipefail
PCM_SVC=down
source "$(dirname "$0")/lib.sh"

rc=0
for s in slurm influxdb mariadb; do
  bash "$PCM_SCRIPTS_DIR/$s.sh" stop || { svc_log "stopping $s failed"; rc=1; }
done
rm -f "$PCM_SERVICES_DIR/env.sh"
exit $rc
