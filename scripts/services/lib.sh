# Shared helpers for scripts/services/*.sh (sourced, not run).
# Working dir: $PCM_SERVICES_DIR (default $PWD/.pcm/services). Every daemon runs on 127.0.0.1 only.

PCM_SERVICES_DIR=${PCM_SERVICES_DIR:-$PWD/.pcm/services}
case "$PCM_SERVICES_DIR" in /*) ;; *) PCM_SERVICES_DIR=$PWD/$PCM_SERVICES_DIR ;; esac
export PCM_SERVICES_DIR
PCM_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Ports (override via env).
PCM_MYSQL_PORT=${PCM_MYSQL_PORT:-3306}
PCM_INFLUX_PORT=${PCM_INFLUX_PORT:-8086}
PCM_INFLUX_RPC_PORT=${PCM_INFLUX_RPC_PORT:-8088}
PCM_SLURMCTLD_PORT=${PCM_SLURMCTLD_PORT:-6817}
PCM_SLURMD_PORT=${PCM_SLURMD_PORT:-6818}
PCM_SLURMDBD_PORT=${PCM_SLURMDBD_PORT:-6819}
PCM_SLURMD_BASE_PORT=${PCM_SLURMD_BASE_PORT:-17001}
# Database users created by mariadb.sh (test-only credentials on loopback).
PCM_SLURMDB_PASSWORD=${PCM_SLURMDB_PASSWORD:-slurmpw}
PCM_READER_PASSWORD=${PCM_READER_PASSWORD:-readerpw}
# How long to wait for a daemon to become ready / to exit (seconds).
PCM_START_TIMEOUT=${PCM_START_TIMEOUT:-30}
PCM_STOP_TIMEOUT=${PCM_STOP_TIMEOUT:-20}

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

svc_log() { echo "[$PCM_SVC] $*" >&2; }
die() { svc_log "ERROR: $*"; exit 1; }

# A pid is alive if it exists and is not a zombie (kill -0 is true for zombies, and our daemons are
# reparented to a PID 1 that may reap late).
alive() { [ -n "${1:-}" ] && ps -o stat= -p "$1" 2>/dev/null | grep -qv Z; }

# Pid from a pid file if that process is alive, else empty.
pid_of() { local p; p=$(cat "$1" 2>/dev/null || true); if alive "$p"; then echo "$p"; fi; }

# wait_until <timeout-s> <what> <command...>: poll every 0.2 s until the command succeeds.
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then svc_log "timed out after ${timeout}s waiting for $what"; return 1; fi
    sleep 0.2
  done
}

# stop_pids <timeout-s> <pid...>: SIGTERM, wait for all to exit, SIGKILL the ones left.
stop_pids() {
  local timeout=$1; shift
  local p left
  for p in "$@"; do alive "$p" && kill -TERM "$p" 2>/dev/null || true; done
  wait_pids "$timeout" "$@" && return 0
  left=""
  for p in "$@"; do alive "$p" && left="$left $p"; done
  svc_log "still running after ${timeout}s, sending SIGKILL:$left"
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  wait_pids 5 $left
}

# wait_pids <timeout-s> <pid...>: true when none is alive before the timeout.
wait_pids() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout)) p any
  while :; do
    any=0
    for p in "$@"; do if alive "$p"; then any=1; break; fi; done
    [ $any -eq 0 ] && return 0
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

# Fail early with a clear message when something else already listens on a port we need.
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
require_port_free() { port_free "$1" || die "port $1 ($2) is already in use by another process; stop it or set $3"; }

# Print the last lines of a log file (on failures).
log_tail() { if [ -f "$1" ]; then svc_log "last lines of $1:"; tail -n "${2:-30}" "$1" | sed 's/^/    /' >&2; fi; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (the test daemons run as root on loopback)"; }

require_cmd() { local c; for c in "$@"; do command -v "$c" >/dev/null || die "$c not found: run scripts/services/install.sh first"; done; }
