#!/usr/bin/env bash
# MariaDB on 127.0.0.1:$PCM_MYSQL_PORT (default 3306) with its data under $PCM_SERVICES_DIR/mariadb.
#   mariadb.sh start   fresh datadir (unless PCM_SERVICES_KEEP_DATA=1), users slurm and pcm_reader; no-op if running
#   mariadb.sh stop    shut down and wait for the server to exit; no-op if stopped
#   mariadb.sh status  exit 0 if running, 3 if not
# Users (TCP from 127.0.0.1 and socket): slurm/$PCM_SLURMDB_PASSWORD (ALL on slurm_acct_db.*, used by slurmdbd)
# and pcm_reader/$PCM_READER_PASSWORD (SELECT on slurm_acct_db.*, what a site admin would give an extractor).
# root has password-less access over the unix socket only.
set -euo pipefail
PCM_SVC=mariadb
source "$(dirname "$0")/lib.sh"

D=$PCM_SERVICES_DIR/mariadb
SOCK=$D/run/mysqld.sock
PIDFILE=$D/run/mysqld.pid
ERRLOG=$D/mariadbd.err

ping_db() { mariadb-admin --no-defaults --socket="$SOCK" -uroot --connect-timeout=2 ping; }
sql_root() { mariadb --no-defaults --socket="$SOCK" -uroot "$@"; }

start() {
  need_root
  require_cmd mariadbd mariadb-install-db mariadb mariadb-admin
  if [ -n "$(pid_of "$PIDFILE")" ]; then svc_log "already running (pid $(pid_of "$PIDFILE"), port $PCM_MYSQL_PORT)"; return 0; fi
  [ ${#SOCK} -lt 100 ] || die "socket path too long for a unix socket (${#SOCK} chars): $SOCK; set PCM_SERVICES_DIR to a shorter path"
  require_port_free "$PCM_MYSQL_PORT" MariaDB PCM_MYSQL_PORT
  local fresh=1
  if [ "${PCM_SERVICES_KEEP_DATA:-0}" = 1 ] && [ -d "$D/data/mysql" ]; then fresh=0; fi
  if [ $fresh = 1 ]; then
    rm -rf "$D"
    mkdir -p "$D/data" "$D/run"
    if ! mariadb-install-db --no-defaults --user=root --datadir="$D/data" --auth-root-authentication-method=normal \
      --skip-test-db >"$D/install-db.log" 2>&1; then
      log_tail "$D/install-db.log"; die "mariadb-install-db failed"
    fi
  fi
  mkdir -p "$D/run"
  # --no-defaults: ignore /etc/mysql and the system datadir. --user=root: mariadbd refuses root otherwise.
  nohup mariadbd --no-defaults --user=root --datadir="$D/data" --socket="$SOCK" --pid-file="$PIDFILE" \
    --bind-address=127.0.0.1 --port="$PCM_MYSQL_PORT" --skip-name-resolve --log-error="$ERRLOG" \
    --innodb-buffer-pool-size=128M --innodb-log-file-size=64M --innodb-lock-wait-timeout=900 \
    </dev/null >/dev/null 2>&1 &
  local pid=$!
  if ! wait_until "$PCM_START_TIMEOUT" "mariadbd to accept connections" ping_db; then
    log_tail "$ERRLOG"
    stop_pids 10 "$pid"
    die "mariadbd did not start"
  fi
  sql_root <<SQL
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$PCM_SLURMDB_PASSWORD';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$PCM_SLURMDB_PASSWORD';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1', 'slurm'@'localhost';
CREATE USER IF NOT EXISTS 'pcm_reader'@'127.0.0.1' IDENTIFIED BY '$PCM_READER_PASSWORD';
CREATE USER IF NOT EXISTS 'pcm_reader'@'localhost' IDENTIFIED BY '$PCM_READER_PASSWORD';
GRANT SELECT ON slurm_acct_db.* TO 'pcm_reader'@'127.0.0.1', 'pcm_reader'@'localhost';
FLUSH PRIVILEGES;
SQL
  svc_log "running (pid $(pid_of "$PIDFILE"), 127.0.0.1:$PCM_MYSQL_PORT, data $D/data)"
}

stop() {
  local pid
  pid=$(pid_of "$PIDFILE")
  if [ -z "$pid" ]; then svc_log "not running"; return 0; fi
  mariadb-admin --no-defaults --socket="$SOCK" -uroot shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  stop_pids "$PCM_STOP_TIMEOUT" "$pid"
  svc_log "stopped"
}

status() {
  local pid
  pid=$(pid_of "$PIDFILE")
  if [ -n "$pid" ]; then echo "mariadb: running (pid $pid, 127.0.0.1:$PCM_MYSQL_PORT)"; return 0; fi
  echo "mariadb: stopped"; return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
