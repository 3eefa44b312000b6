#!/usr/bin/env bash
# Start the test services on loopback, in order (MariaDB, InfluxDB, Slurm), and write
# $PCM_SERVICES_DIR/env.sh with what the integration tests need (`source` it).
#   PCM_SERVICES="mariadb influxdb slurm"   which services to start (default: all three)
# If one fails to start, everything is stopped again and the script exits non-zero.
# Stop with scripts/services/down.sh.
set -euo pipefail
PCM_SVC=up
source "$(dirname "$0")/lib.sh"

PCM_SERVICES=${PCM_SERVICES:-"mariadb influxdb slurm"}
for s in $PCM_SERVICES; do
  case "$s" in mariadb | influxdb | slurm) ;; *) die "unknown service '$s' in PCM_SERVICES (expected mariadb, influxdb, slurm)" ;; esac
done
want() { [[ " $PCM_SERVICES " == *" $1 "* ]]; }
if want slurm && ! want mariadb; then svc_log "note: slurm needs MariaDB (slurmdbd); expecting it to be running already"; fi

mkdir -p "$PCM_SERVICES_DIR"
rm -f "$PCM_SERVICES_DIR/env.sh"
started=""
on_fail() {
  svc_log "start failed: stopping what was started (${started:-nothing})"
  bash "$PCM_SCRIPTS_DIR/down.sh" >/dev/null 2>&1 || true
}
trap on_fail ERR
now() { date +%s.%N; }
t0=$(now)
for s in mariadb influxdb slurm; do
  want "$s" || continue
  ts=$(now)
  bash "$PCM_SCRIPTS_DIR/$s.sh" start
  started="$started $s"
  svc_log "$s started in $(awk -v a="$ts" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"
done
trap - ERR

# env.sh: written to a temp file and renamed, so a half-written file is never sourced.
tmp=$(mktemp "$PCM_SERVICES_DIR/.env.sh.XXXXXX")
{
  echo "# Written by scripts/services/up.sh at $(date -u +%FT%TZ); removed by down.sh."
  echo "export PCM_SERVICES_DIR='$PCM_SERVICES_DIR'"
  echo "export PCM_SERVICES_UP='${started# }'"
  if want mariadb; then
    echo "export PCM_TEST_MARIADB=1"
    echo "export PCM_TEST_MYSQL_URL='mysql://slurm@127.0.0.1:$PCM_MYSQL_PORT/slurm_acct_db'"
    echo "export PCM_SLURMDB_PASSWORD='$PCM_SLURMDB_PASSWORD'"
    echo "export PCM_TEST_MYSQL_READER_URL='mysql://pcm_reader@127.0.0.1:$PCM_MYSQL_PORT/slurm_acct_db'"
    echo "export PCM_TEST_MYSQL_READER_PASSWORD='$PCM_READER_PASSWORD'"
    echo "export PCM_TEST_MYSQL_SOCKET='$PCM_SERVICES_DIR/mariadb/run/mysqld.sock'"
  fi
  if want influxdb; then
    echo "export PCM_TEST_INFLUXDB=1"
    echo "export PCM_TEST_INFLUX_URL='http://127.0.0.1:$PCM_INFLUX_PORT'"
    echo "export PCM_TEST_INFLUX_DB=telemetry"
  fi
  if want slurm; then
    echo "export PCM_TEST_SLURM=1"
    echo "export SLURM_CONF='$PCM_SERVICES_DIR/slurm/etc/slurm.conf'"
    echo "export PCM_TEST_SLURM_CLUSTER=pcmtest"
    echo "export PCM_TEST_SLURM_NODES=${PCM_SLURM_NODES:-16}"
    echo "export PCM_TEST_SLURM_NODE_CPUS=${PCM_SLURM_NODE_CPUS:-4}"
    echo "export PCM_TEST_SLURM_POWER_SAVE=${PCM_SLURM_POWER_SAVE:-1}"
  fi
} > "$tmp"
mv "$tmp" "$PCM_SERVICES_DIR/env.sh"
svc_log "up in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s:${started}. Use: source $PCM_SERVICES_DIR/env.sh ; stop with scripts/services/down.sh"
