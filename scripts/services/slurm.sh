#!/usr/bin/env bash
# Slurm 22.05 on one host: munge + slurmdbd (-> MariaDB) + slurmctld + 16 logical slurmd node[01-16],
# cluster `pcmtest`, partition `debug` (all nodes, default). Config and state under $PCM_SERVICES_DIR/slurm.
#   slurm.sh start   write slurm.conf/slurmdbd.conf, start daemons, wait until all nodes are idle; no-op if running
#   slurm.sh stop    cancel jobs, shut down slurmctld + slurmd + slurmdbd (+ munged if we started it), wait
#   slurm.sh status  exit 0 if slurmdbd and slurmctld run, 3 if not
# Needs MariaDB from mariadb.sh (user slurm). Clients need SLURM_CONF=$PCM_SERVICES_DIR/slurm/etc/slurm.conf.
# Env: PCM_SLURM_NODES (16), PCM_SLURM_NODE_CPUS (4), PCM_SLURM_NODE_MEM (1000 MB), ports (lib.sh),
#      PCM_SLURM_POWER_SAVE (1) installs the power-save hooks: SuspendProgram/ResumeProgram under slurm/bin that
#      kill the node's slurmd / start it again with `slurmd -b` (see docs/power.md, "Running it on a real cluster").
#      SuspendTime defaults to 31536000 (a year): nothing powers down by itself (other tests see 16 idle nodes),
#      but `scontrol update nodename=X state=power_down|power_up` works through the hooks (pcm power advise).
#      (SuspendTime=INFINITE would not do, tested: 22.05 then disables power saving and refuses a manual power_down
#      with "Invalid node state specified".) PCM_SLURM_POWER_SAVE=0 leaves power saving out entirely.
#      Tuned by PCM_SLURM_SUSPEND_TIME (31536000; e.g. 60 for Slurm's own idle timeout),
#      PCM_SLURM_SUSPEND_TIMEOUT (10), PCM_SLURM_RESUME_TIMEOUT (30), PCM_SLURM_BOOT_DELAY (5),
#      PCM_SLURM_SUSPEND_EXC (e.g. `node[01-16]:2`, default none).
#      Timers for compressed-time trials (bench/studies/live-trial.ts), each left out of slurm.conf when unset:
#      PCM_SLURM_SCHED_PARAMS (SchedulerParameters, e.g. `bf_interval=1,sched_interval=1`),
#      PCM_SLURM_MIN_JOB_AGE (MinJobAge s), PCM_SLURM_POWER_SAVE_MIN_INTERVAL (power_save_min_interval s).
set -euo pipefail
PCM_SVC=slurm
source "$(dirname "$0")/lib.sh"

S=$PCM_SERVICES_DIR/slurm
CONF=$S/etc/slurm.conf
export SLURM_CONF=$CONF
CLUSTER=pcmtest
NNODES=${PCM_SLURM_NODES:-16}
NODE_CPUS=${PCM_SLURM_NODE_CPUS:-4}
NODE_MEM=${PCM_SLURM_NODE_MEM:-1000}
MYSQL_SOCK=$PCM_SERVICES_DIR/mariadb/run/mysqld.sock
[[ $NNODES =~ ^[0-9]+$ ]] && [ "$NNODES" -ge 1 ] && [ "$NNODES" -le 99 ] || die "PCM_SLURM_NODES must be 1..99"
LAST=$(printf '%02d' "$NNODES")
NODES="node[01-$LAST]"
[ "$NNODES" -eq 1 ] && NODES=node01
node_names() { local i; for i in $(seq 1 "$NNODES"); do printf 'node%02d\n' "$i"; done; }

munged_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
dbd_ok() { sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$CLUSTER"; }
dbd_up() { sacctmgr -n show cluster >/dev/null 2>&1; }
ctld_ok() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
nodes_idle() { [ "$(sinfo -h -t idle -o %D 2>/dev/null | awk '{s+=$1} END {print s+0}')" = "$NNODES" ]; }

# Our daemons/steps still alive: the pid files, plus slurm processes whose environment names our
# SLURM_CONF (catches a slurmd whose pid file is gone). $1 = process names (default: all of ours).
our_slurm_pids() {
  local names=${1:-slurmd|slurmctld|slurmdbd|slurmstepd} p f
  for p in $(pgrep -x "$names" 2>/dev/null || true); do
    alive "$p" || continue
    if { tr '\0' '\n' < "/proc/$p/environ"; } 2>/dev/null | grep -qx "SLURM_CONF=$CONF"; then echo "$p"; fi
  done
  for f in "$S"/run/slurmctld.pid "$S"/run/slurmdbd.pid "$S"/run/slurmd-*.pid; do
    p=$(basename "$f" .pid); p=${p%%-*}   # slurmd-node01 -> slurmd
    [[ $p =~ ^($names)$ ]] && pid_of "$f"
  done | sort -u
}

write_conf() {
  local h first_job=1
  h=$(hostname -s)
  mkdir -p "$S/etc" "$S/state" "$S/spool" "$S/log" "$S/run" "$S/bin"
  # Job ids must not repeat while the accounting DB keeps older jobs: continue after the highest stored id.
  if [ -S "$MYSQL_SOCK" ]; then
    first_job=$(mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -N -B -e \
      "SELECT COALESCE(MAX(id_job),0)+1 FROM slurm_acct_db.${CLUSTER}_job_table" 2>/dev/null || echo 1)
  fi
  cat > "$CONF" <<CONF
# Written by scripts/services/slurm.sh: a test cluster on loopback.
ClusterName=$CLUSTER
SlurmctldHost=$h(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PCM_SLURMCTLD_PORT
SlurmdPort=$PCM_SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool/slurmd-%n
SlurmctldPidFile=$S/run/slurmctld.pid
SlurmdPidFile=$S/run/slurmd-%n.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$PCM_SLURMDBD_PORT
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
KillWait=5
${PCM_SLURM_SCHED_PARAMS:+SchedulerParameters=$PCM_SLURM_SCHED_PARAMS}
${PCM_SLURM_MIN_JOB_AGE:+MinJobAge=$PCM_SLURM_MIN_JOB_AGE}
FirstJobId=$first_job
SlurmdParameters=config_overrides
NodeName=$NODES NodeHostname=$h NodeAddr=127.0.0.1 Port=[$PCM_SLURMD_BASE_PORT-$((PCM_SLURMD_BASE_PORT + NNODES - 1))] CPUs=$NODE_CPUS RealMemory=$NODE_MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  if [ "${PCM_SLURM_POWER_SAVE:-1}" = 1 ]; then write_power_save; fi
  echo "CgroupAutomount=no" > "$S/etc/cgroup.conf"
  cat > "$S/etc/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$PCM_SLURMDBD_PORT
SlurmUser=root
PidFile=$S/run/slurmdbd.pid
LogFile=$S/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$PCM_MYSQL_PORT
StorageUser=slurm
StoragePass=$PCM_SLURMDB_PASSWORD
StorageLoc=slurm_acct_db
CONF
  chmod 600 "$S/etc/slurmdbd.conf"
}

# Power saving (on by default; SuspendTime a year = in practice manual only): "suspend" kills the node's
# slurmd, "resume" starts it again with -b after a boot delay.
write_power_save() {
  cat >> "$CONF" <<CONF
SuspendProgram=$S/bin/suspend.sh
ResumeProgram=$S/bin/resume.sh
SuspendTime=${PCM_SLURM_SUSPEND_TIME:-31536000}
SuspendTimeout=${PCM_SLURM_SUSPEND_TIMEOUT:-10}
ResumeTimeout=${PCM_SLURM_RESUME_TIMEOUT:-30}
SuspendRate=60
ResumeRate=300
SlurmctldParameters=power_save_interval=1${PCM_SLURM_POWER_SAVE_MIN_INTERVAL:+,power_save_min_interval=$PCM_SLURM_POWER_SAVE_MIN_INTERVAL}
DebugFlags=Power
CONF
  if [ -n "${PCM_SLURM_SUSPEND_EXC:-}" ]; then echo "SuspendExcNodes=$PCM_SLURM_SUSPEND_EXC" >> "$CONF"; fi
  cat > "$S/bin/power.env" <<ENV
# Read by suspend.sh/resume.sh at every call. MODE=kill: stop/start slurmd; MODE=log: only log.
MODE=kill
BOOT_DELAY=${PCM_SLURM_BOOT_DELAY:-5}
SLURMD_FLAGS=-b
ENV
  # slurmctld runs these as SlurmUser with only SLURM_CONF (+ SLURM_RESUME_FILE) in the environment: no PATH.
  cat > "$S/bin/suspend.sh" <<SH
#!/bin/bash
# SuspendProgram: \$1 = hostlist (e.g. node[03-05,07]). Stops each node's slurmd ("power off").
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
S=$S
. \$S/bin/power.env
log() { echo "\$(date '+%F %T.%3N') \$*" >> \$S/log/power.log; }
alive() { [ -n "\$1" ] && ps -o stat= -p "\$1" 2>/dev/null | grep -qv Z; }
log "SUSPEND args=[\$*] mode=\$MODE"
[ "\$MODE" = kill ] || exit 0
pids=""
for n in \$(scontrol show hostnames "\$1"); do
  p=\$(cat \$S/run/slurmd-\$n.pid 2>/dev/null || true)
  if alive "\$p"; then kill -TERM \$p; pids="\$pids \$n:\$p"; else log "  no slurmd running for \$n"; fi
done
for np in \$pids; do
  n=\${np%%:*}; p=\${np##*:}
  for i in \$(seq 1 100); do alive \$p || break; sleep 0.1; done
  if alive \$p; then kill -KILL \$p; log "  slurmd \$n pid=\$p ignored SIGTERM -> SIGKILL"; else log "  stopped slurmd \$n pid=\$p"; fi
done
exit 0
SH
  cat > "$S/bin/resume.sh" <<SH
#!/bin/bash
# ResumeProgram: \$1 = hostlist. Starts each node's slurmd with -b after BOOT_DELAY s ("boot"), in the background.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
S=$S
. \$S/bin/power.env
log() { echo "\$(date '+%F %T.%3N') \$*" >> \$S/log/power.log; }
alive() { [ -n "\$1" ] && ps -o stat= -p "\$1" 2>/dev/null | grep -qv Z; }
log "RESUME args=[\$*] mode=\$MODE delay=\$BOOT_DELAY flags=\$SLURMD_FLAGS"
[ "\$MODE" = kill ] || exit 0
for n in \$(scontrol show hostnames "\$1"); do
  (
    sleep "\$BOOT_DELAY"
    f=\$S/run/slurmd-\$n.pid
    # a slurmd still running through the "power off" never re-registers by itself: restart it
    p=\$(cat \$f 2>/dev/null || true)
    if alive "\$p"; then
      kill -TERM \$p; for i in \$(seq 1 100); do alive \$p || break; sleep 0.1; done; alive \$p && kill -KILL \$p
      log "  slurmd \$n was still running (pid=\$p): restarted"
    fi
    mkdir -p \$S/spool/slurmd-\$n
    # slurmctld forks this with SIGTERM etc. blocked; clear the mask so the new slurmd can be stopped normally
    perl -MPOSIX -e 'sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die; exec @ARGV or die' \\
      slurmd \$SLURMD_FLAGS -N \$n >> \$S/log/power.log 2>&1
    log "  started slurmd \$SLURMD_FLAGS -N \$n rc=\$?"
    rm -f \$S/run/resume-\$n.pid
  ) </dev/null >/dev/null 2>&1 &
  echo \$! > \$S/run/resume-\$n.pid
done
exit 0
SH
  chmod 755 "$S/bin/suspend.sh" "$S/bin/resume.sh"
  chmod 644 "$S/bin/power.env"
}

start_munge() {
  if munged_ok; then return 0; fi
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged || die "munged failed to start (see /var/log/munge/munged.log)"
  wait_until 10 munged munged_ok || { log_tail /var/log/munge/munged.log; die "munged is not answering"; }
  # remember that we started it, so stop only stops a munged we own
  cat /run/munge/munged.pid > "$S/run/munged.ours"
}

fail_start() {
  local what=$1; shift
  for f in "$@"; do log_tail "$f"; done
  stop >/dev/null 2>&1 || true
  die "$what"
}

start() {
  need_root
  require_cmd slurmctld slurmd slurmdbd munged munge sacctmgr scontrol sinfo
  if [ -n "$(pid_of "$S/run/slurmctld.pid")" ] && [ -n "$(pid_of "$S/run/slurmdbd.pid")" ]; then
    svc_log "already running (SLURM_CONF=$CONF)"; return 0
  fi
  if [ -n "$(our_slurm_pids)" ]; then svc_log "partly running: stopping the rest first"; stop; fi
  require_port_free "$PCM_SLURMCTLD_PORT" slurmctld PCM_SLURMCTLD_PORT
  require_port_free "$PCM_SLURMDBD_PORT" slurmdbd PCM_SLURMDBD_PORT
  require_port_free "$PCM_SLURMD_BASE_PORT" "slurmd node01" PCM_SLURMD_BASE_PORT
  [ -S "$MYSQL_SOCK" ] || svc_log "warning: no MariaDB socket at $MYSQL_SOCK (start mariadb.sh first)"
  local munged_ours=""
  [ -f "$S/run/munged.ours" ] && munged_ours=$(cat "$S/run/munged.ours")
  rm -rf "$S"
  mkdir -p "$S/run"
  [ -n "$munged_ours" ] && echo "$munged_ours" > "$S/run/munged.ours"
  write_conf
  start_munge

  slurmdbd || fail_start "slurmdbd failed to start" "$S/log/slurmdbd.log"
  wait_until "$PCM_START_TIMEOUT" "slurmdbd" dbd_up || fail_start "slurmdbd is not answering" "$S/log/slurmdbd.log"
  slurmctld || fail_start "slurmctld failed to start" "$S/log/slurmctld.log"
  wait_until "$PCM_START_TIMEOUT" "slurmctld" ctld_ok || fail_start "slurmctld is not answering" "$S/log/slurmctld.log"
  local n
  for n in $(node_names); do
    mkdir -p "$S/spool/slurmd-$n"
    slurmd -N "$n" || fail_start "slurmd -N $n failed to start" "$S/log/slurmd-$n.log"
  done
  wait_until "$PCM_START_TIMEOUT" "$NNODES idle nodes" nodes_idle \
    || { sinfo -N >&2 || true; fail_start "nodes did not become idle" "$S/log/slurmctld.log"; }
  wait_until "$PCM_START_TIMEOUT" "cluster $CLUSTER in slurmdbd" dbd_ok \
    || fail_start "cluster $CLUSTER was not registered in slurmdbd" "$S/log/slurmdbd.log" "$S/log/slurmctld.log"
  local ps=""
  [ "${PCM_SLURM_POWER_SAVE:-1}" = 1 ] && ps=", power-save hooks on (SuspendTime=${PCM_SLURM_SUSPEND_TIME:-31536000})"
  svc_log "running: cluster $CLUSTER, $NNODES nodes idle, SLURM_CONF=$CONF$ps"
}

stop() {
  local pids ctld jobs p
  pids=$(our_slurm_pids | sort -u | tr '\n' ' ')
  if [ -z "${pids// /}" ] && [ ! -f "$S/run/munged.ours" ]; then svc_log "not running"; return 0; fi
  ctld=$(pid_of "$S/run/slurmctld.pid")
  # resume.sh "boots" still pending would start a slurmd after we stop: kill them first (their mask blocks TERM)
  for f in "$S"/run/resume-*.pid; do p=$(pid_of "$f"); [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; rm -f "$f"; done
  if [ -n "$ctld" ]; then
    jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ' || true)
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      wait_until 15 "cancelled jobs to end" bash -c '[ -z "$(squeue -h 2>/dev/null)" ]' || true
    fi
    # `scontrol shutdown` ends slurmctld and every slurmd (not slurmdbd)
    pids=$(our_slurm_pids 'slurmd|slurmctld' | tr '\n' ' ')
    scontrol shutdown >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    wait_pids "$PCM_STOP_TIMEOUT" $pids || true
  fi
  # what is left (slurmdbd, or daemons that missed the shutdown): SIGTERM, wait, SIGKILL
  pids=$(our_slurm_pids | sort -u | tr '\n' ' ')
  # shellcheck disable=SC2086
  [ -n "${pids// /}" ] && stop_pids "$PCM_STOP_TIMEOUT" $pids
  if [ -f "$S/run/munged.ours" ]; then
    p=$(cat "$S/run/munged.ours")
    if alive "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = munged ]; then stop_pids "$PCM_STOP_TIMEOUT" "$p"; fi
    rm -f "$S/run/munged.ours"
  fi
  svc_log "stopped"
}

status() {
  local ctld dbd nd=0 n rc=0
  dbd=$(pid_of "$S/run/slurmdbd.pid"); ctld=$(pid_of "$S/run/slurmctld.pid")
  for n in $(node_names); do [ -n "$(pid_of "$S/run/slurmd-$n.pid")" ] && nd=$((nd + 1)); done
  state() { if [ -n "$1" ]; then echo "running (pid $1)"; else echo stopped; fi; }
  echo "slurm: munged $(munged_ok && echo up || echo down), slurmdbd $(state "$dbd")," \
    "slurmctld $(state "$ctld"), slurmd $nd/$NNODES running"
  [ -n "$dbd" ] && [ -n "$ctld" ] || rc=3
  return $rc
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
