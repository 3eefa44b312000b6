#!/usr/bin/env bash
# InfluxDB 1.x on 127.0.0.1:$PCM_INFLUX_PORT (default 8086), no auth, data under $PCM_SERVICES_DIR/influxdb.
#   influxdb.sh start   fresh data dir (unless PCM_SERVICES_KEEP_DATA=1), database `telemetry`; no-op if running
#   influxdb.sh stop    SIGTERM and wait for influxd to exit; no-op if stopped
#   influxdb.sh status  exit 0 if running, 3 if not
set -euo pipefail
PCM_SVC=influxdb
source "$(dirname "$0")/lib.sh"

D=$PCM_SERVICES_DIR/influxdb
PIDFILE=$D/influxd.pid
LOG=$D/influxd.log
URL=http://127.0.0.1:$PCM_INFLUX_PORT

ping_influx() { curl -sf -o /dev/null --max-time 2 "$URL/ping"; }

start() {
  require_cmd influxd curl
  if [ -n "$(pid_of "$PIDFILE")" ]; then svc_log "already running (pid $(pid_of "$PIDFILE"), $URL)"; return 0; fi
  require_port_free "$PCM_INFLUX_PORT" "InfluxDB HTTP" PCM_INFLUX_PORT
  require_port_free "$PCM_INFLUX_RPC_PORT" "InfluxDB RPC" PCM_INFLUX_RPC_PORT
  if [ "${PCM_SERVICES_KEEP_DATA:-0}" != 1 ]; then rm -rf "$D"; fi
  mkdir -p "$D"
  cat > "$D/influxdb.conf" <<CONF
reporting-enabled = false
bind-address = "127.0.0.1:$PCM_INFLUX_RPC_PORT"
[meta]
  dir = "$D/meta"
[data]
  dir = "$D/data"
  wal-dir = "$D/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$PCM_INFLUX_PORT"
  auth-enabled = false
  log-enabled = false
  unix-socket-enabled = false
[continuous_queries]
  enabled = false
CONF
  nohup influxd run -config "$D/influxdb.conf" -pidfile "$PIDFILE" </dev/null >"$LOG" 2>&1 &
  local pid=$!
  if ! wait_until "$PCM_START_TIMEOUT" "influxd to answer /ping" ping_influx; then
    log_tail "$LOG"
    stop_pids 10 "$pid"
    die "influxd did not start"
  fi
  curl -sf -o /dev/null -XPOST "$URL/query" --data-urlencode 'q=CREATE DATABASE telemetry' \
    || { log_tail "$LOG"; die "could not create database telemetry"; }
  svc_log "running (pid $pid, $URL, database telemetry)"
}

stop() {
  local pid
  pid=$(pid_of "$PIDFILE")
  if [ -z "$pid" ]; then svc_log "not running"; return 0; fi
  stop_pids "$PCM_STOP_TIMEOUT" "$pid"
  rm -f "$PIDFILE"
  svc_log "stopped"
}

status() {
  local pid
  pid=$(pid_of "$PIDFILE")
  if [ -n "$pid" ]; then echo "influxdb: running (pid $pid, $URL)"; return 0; fi
  echo "influxdb: stopped"; return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
