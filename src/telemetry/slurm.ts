import { execFile } from 'node:child_process';
import type { JobRecord, JobState, ParseReport } from '../jobs/record.js';
import { newReport, note, skip } from '../jobs/record.js';
import { UserError } from '../util/errors.js';
import { NODE_STATE_FIELDS, type NodeStateField } from './schema.js';

/**
 * What a running Slurm says now, read with `squeue` and `sinfo` (times as epoch seconds through
 * SLURM_TIME_FORMAT=%s), turned into JobRecords so the live row is computed by the same timeline builder
 * as the history. `squeue -t all` also lists jobs that ended within MinJobAge (default 300 s), which is
 * what the `*_last_min` flow counts need.
 */

/** squeue --Format fields, `|`-separated (`:|` = no padding, `|` after the value). */
const SQUEUE_FIELDS = [
  'JobID',
  'State',
  'SubmitTime',
  'EligibleTime',
  'StartTime',
  'EndTime',
  'TimeLimit',
  'NumNodes',
  'NumCPUs',
  'Partition',
  'UserName',
  'NodeList',
] as const;

export function squeueArgs(partition?: string): string[] {
  const args = [
    '--noheader',
    '--states=all',
    '--array',
    `--Format=${SQUEUE_FIELDS.map((f) => `${f}:|`).join(',')}`,
  ];
  if (partition) args.push(`--partition=${partition}`);
  return args;
}

/** One line per node and partition: name | partition | CPUs | long state. */
export function sinfoArgs(partition?: string): string[] {
  const args = ['--noheader', '--Node', '--format=%N|%R|%c|%T'];
  if (partition) args.push(`--partition=${partition}`);
  return args;
}

/** squeue states -> JobRecord states (COMPLETING has ended: its end time is real). */
const STATE_MAP: Record<string, JobState> = {
  PENDING: 'PENDING',
  RUNNING: 'RUNNING',
  CONFIGURING: 'RUNNING',
  SIGNALING: 'RUNNING',
  STAGE_OUT: 'RUNNING',
  SUSPENDED: 'SUSPENDED',
  STOPPED: 'SUSPENDED',
  COMPLETING: 'COMPLETED',
  COMPLETED: 'COMPLETED',
  CANCELLED: 'CANCELLED',
  FAILED: 'FAILED',
  SPECIAL_EXIT: 'FAILED',
  TIMEOUT: 'TIMEOUT',
  NODE_FAIL: 'NODE_FAIL',
  PREEMPTED: 'PREEMPTED',
  BOOT_FAIL: 'BOOT_FAIL',
  DEADLINE: 'DEADLINE',
  OUT_OF_MEMORY: 'OUT_OF_MEMORY',
  REQUEUED: 'REQUEUED',
  REQUEUE_HOLD: 'PENDING',
  REQUEUE_FED: 'PENDING',
  RESV_DEL_HOLD: 'PENDING',
  RESIZING: 'RESIZING',
  REVOKED: 'REVOKED',
};
/** States whose EndTime is only the expected end (start + limit): the job still holds its nodes. */
const OPEN: ReadonlySet<JobState> = new Set<JobState>(['RUNNING', 'SUSPENDED', 'RESIZING']);

/** Epoch seconds, or null for N/A, Unknown, None, 0. */
function epoch(s: string): number | null {
  if (!/^\d+$/.test(s)) return null;
  const v = Number(s);
  return v > 0 ? v : null;
}

/** Slurm duration text -> seconds: `D-HH:MM:SS`, `H:MM:SS`, `M:SS`, `M`; null for UNLIMITED / NOT_SET / INVALID. */
export function parseDuration(s: string): number | null {
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(s.trim());
  if (!m) return null;
  const days = m[1] ? Number(m[1]) : 0;
  const a = Number(m[2]);
  const b = m[3] !== undefined ? Number(m[3]) : undefined;
  const c = m[4] !== undefined ? Number(m[4]) : undefined;
  let secs: number;
  if (c !== undefined) secs = a * 3600 + b! * 60 + c;
  else if (b !== undefined)
    secs = m[1] ? a * 3600 + b * 60 : a * 60 + b; // D-HH:MM or MM:SS
  else secs = m[1] ? a * 3600 : a * 60; // D-HH or minutes
  return days * 86400 + secs;
}

/**
 * squeue lines -> JobRecords as seen at `now` (epoch s). Pending jobs have no start (StartTime is only an
 * estimate) and, when not yet eligible (held, dependency, begin time), an eligible time after `now`, so the
 * builder does not count them as queued. Running jobs have no end (EndTime is start + limit).
 */
export function parseSqueue(text: string, now: number): { jobs: JobRecord[]; report: ParseReport } {
  const report = newReport('squeue');
  const jobs: JobRecord[] = [];
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].trim();
    if (!line) continue;
    report.lines++;
    const f = line.split('|');
    if (f.length > SQUEUE_FIELDS.length && f[SQUEUE_FIELDS.length] === '') f.pop(); // trailing `|`
    if (f.length !== SQUEUE_FIELDS.length) {
      skip(report, ln + 1, `expected ${SQUEUE_FIELDS.length} '|'-separated fields, found ${f.length}`);
      continue;
    }
    const [id, rawState, submitS, eligibleS, startS, endS, limitS, nodesS, cpusS, partition, user, nodeList] =
      f.map((x) => x.trim());
    const baseState = rawState.split(/[ +]/)[0];
    const state = STATE_MAP[baseState];
    if (!state) {
      skip(report, ln + 1, `unknown job state ${JSON.stringify(rawState)}`);
      continue;
    }
    const nodes = Number(nodesS);
    const cpus = Number(cpusS);
    if (!(Number.isFinite(nodes) && nodes >= 0 && Number.isFinite(cpus) && cpus >= 0)) {
      skip(
        report,
        ln + 1,
        `nodes/CPUs must be numbers, got ${JSON.stringify(nodesS)}/${JSON.stringify(cpusS)}`,
      );
      continue;
    }
    const submit = epoch(submitS);
    let eligible = epoch(eligibleS);
    let start = epoch(startS);
    let end = epoch(endS);
    if (state === 'PENDING' || state === 'REQUEUED') {
      start = null;
      end = null;
      if (eligible === null || eligible > now) {
        eligible = Math.floor(now / 60) * 60 + 60; // not eligible at the snapshot
        note(report, 'pending_not_eligible');
      }
    } else if (OPEN.has(state)) end = null;
    if (start !== null && end !== null && end < start) end = start;
    jobs.push({
      id,
      submit,
      eligible,
      start,
      end,
      nodes,
      cpus,
      timeLimit: parseDuration(limitS),
      partition: partition || null,
      state,
      user: user || null,
      nodeList: nodeList || null,
    });
    report.jobs++;
  }
  return { jobs, report };
}

export interface SinfoSummary {
  /** Distinct nodes (any state): the capacity. */
  nodes: number;
  /** CPUs of the distinct nodes. */
  cpus: number;
  nodeStates: Record<NodeStateField, number>;
}

/** Base state (suffix flags stripped) -> exporter gauge. */
function stateField(base: string, flags: string): NodeStateField | null {
  if (base.startsWith('idle'))
    return flags.includes('~') ? 'slurm_nodes_idle_power_save' : 'slurm_nodes_idle';
  if (base.startsWith('alloc')) return 'slurm_nodes_alloc';
  if (base.startsWith('mix')) return 'slurm_nodes_mix';
  if (base.startsWith('comp')) return 'slurm_nodes_comp';
  if (base.startsWith('down')) return 'slurm_nodes_down';
  if (base.startsWith('drain')) return 'slurm_nodes_drain';
  if (base.startsWith('err')) return 'slurm_nodes_err';
  if (base.startsWith('fail')) return 'slurm_nodes_fail';
  if (base.startsWith('maint')) return 'slurm_nodes_maint';
  if (base.startsWith('resv') || base.startsWith('reserved')) return 'slurm_nodes_resv';
  if (base.startsWith('plan')) return 'slurm_nodes_plnd';
  return null;
}

/** sinfo --Node lines -> capacity, CPUs and node-state counts (each node once, whatever its partitions). */
export function parseSinfo(text: string): SinfoSummary {
  const seen = new Set<string>();
  const nodeStates = Object.fromEntries(NODE_STATE_FIELDS.map((f) => [f, 0])) as Record<
    NodeStateField,
    number
  >;
  let cpus = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [name, , cpuS, stateS] = line.split('|');
    if (!name || stateS === undefined || seen.has(name)) continue;
    seen.add(name);
    const c = Number(cpuS);
    if (Number.isFinite(c) && c > 0) cpus += c;
    const st = stateS.trim().toLowerCase();
    const cut = st.search(/[^a-z_]/);
    const base = cut < 0 ? st : st.slice(0, cut);
    const flags = st.slice(base.length);
    const f = stateField(base, flags);
    if (f) nodeStates[f]++;
    if (flags.includes('~')) nodeStates.nodes_powered_down++;
    if (flags.includes('#')) nodeStates.nodes_powering_up++;
    if (flags.includes('%')) nodeStates.nodes_powering_down++;
  }
  return { nodes: seen.size, cpus, nodeStates };
}

/** Run a Slurm client command with epoch-second times; one-line UserError on failure. */
export function runSlurmCommand(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, SLURM_TIME_FORMAT: '%s' }, timeout: timeoutMs, maxBuffer: 512 << 20 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        if (e.code === 'ENOENT')
          return reject(new UserError(`${cmd} not found: is the Slurm client installed and on PATH?`));
        if (e.killed)
          return reject(new UserError(`${cmd} did not answer within ${timeoutMs} ms (is slurmctld up?)`));
        const first = String(stderr).trim().split('\n')[0] || e.message.split('\n')[0];
        reject(new UserError(`${cmd} failed (exit ${e.code}): ${first}`));
      },
    );
  });
}
