import { execFile } from 'node:child_process';
import { expand, sortHosts } from '../jobs/hostlist.js';
import { InputError, UserError } from '../util/errors.js';

/**
 * Live node states from the Slurm client tools (22.05; states as measured on the test
 * cluster of scripts/services/slurm.sh, docs/power.md): `sinfo -h -N -o '%N|%T|%E'` for the partition's nodes and
 * their short state (`idle~` powered down, `idle#` powering up, `idle%` powering down, `idle!` power-down
 * pending), `scontrol show node -o` for the full state flags (`IDLE+POWERED_DOWN`, `MIXED+DRAIN`, ...),
 * `LastBusyTime` (the instant a node last had a job: its idle-since) and `Partitions`, and
 * `scontrol show config` for SuspendExcNodes/SuspendExcParts, the rates and whether power saving is on.
 */

/** What the policy sees a node as. `unavailable` nodes (down, drained, ...) are outside the policy's view. */
export type NodeKind = 'busy' | 'idle' | 'off' | 'booting' | 'shutting' | 'unavailable';

export interface SlurmNode {
  name: string;
  /** sinfo %T, e.g. `idle~`, `mixed`, `drained`. */
  sinfoState: string;
  /** scontrol State=, e.g. `IDLE+POWERED_DOWN`. */
  state: string;
  reason: string;
  /** Epoch seconds of LastBusyTime, null when Unknown (powered down) or absent. */
  lastBusy: number | null;
  partitions: string[];
}

export interface Classified {
  kind: NodeKind;
  /** Why no action may touch this node (null: it may be powered down when idle / up when off). */
  refusal: string | null;
}

/**
 * One node's kind and refusal, from its scontrol State (base state + flags). First match wins:
 * allocated/mixed/completing -> busy; drained/failed -> unavailable; down -> unavailable; a power-down
 * pending or running -> shutting; power-up pending or running -> booting; powered down -> off; reserved or
 * in maintenance -> idle but refused; not responding -> unavailable; idle -> idle.
 */
export function classify(state: string): Classified {
  const [base, ...flagList] = state.toUpperCase().split('+');
  const f = new Set(flagList);
  if (base === 'ALLOCATED' || base === 'MIXED' || f.has('COMPLETING')) {
    const what = f.has('COMPLETING')
      ? 'completing a job'
      : base === 'MIXED'
        ? 'mixed (running jobs)'
        : 'allocated';
    return { kind: 'busy', refusal: f.has('DRAIN') ? `${what}, draining` : what };
  }
  if (f.has('DRAIN')) return { kind: 'unavailable', refusal: 'drained' };
  if (f.has('FAIL')) return { kind: 'unavailable', refusal: 'failing' };
  if (base === 'DOWN')
    return { kind: 'unavailable', refusal: f.has('POWERED_DOWN') ? 'down (powered down)' : 'down' };
  if (f.has('POWERING_DOWN') || f.has('POWER_DOWN'))
    return { kind: 'shutting', refusal: 'powering down already' };
  if (f.has('POWERING_UP') || f.has('POWER_UP')) return { kind: 'booting', refusal: 'powering up already' };
  if (f.has('RESERVED') || f.has('MAINTENANCE')) {
    const what = f.has('RESERVED') ? 'reserved' : 'in a maintenance reservation';
    return { kind: f.has('POWERED_DOWN') ? 'off' : 'idle', refusal: what };
  }
  if (f.has('POWERED_DOWN')) return { kind: 'off', refusal: null };
  if (f.has('NOT_RESPONDING')) return { kind: 'unavailable', refusal: 'not responding' };
  if (base === 'IDLE') return { kind: 'idle', refusal: null };
  return { kind: 'unavailable', refusal: `state ${state}` };
}

/** `sinfo -h -N -o '%N|%T|%E'` -> name, state, reason (a node in several partitions is listed once). */
export function parseSinfo(text: string): Array<{ name: string; state: string; reason: string }> {
  const seen = new Map<string, { name: string; state: string; reason: string }>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = line.split('|');
    if (parts.length < 2 || parts[0].trim() === '' || parts[1].trim() === '') {
      throw new InputError(`sinfo line ${i + 1}: expected 'NODE|STATE|REASON', got '${line.slice(0, 80)}'`);
    }
    const name = parts[0].trim();
    const reason = parts.slice(2).join('|').trim();
    if (!seen.has(name))
      seen.set(name, { name, state: parts[1].trim(), reason: reason === 'none' ? '' : reason });
  });
  return [...seen.values()];
}

function field(line: string, key: string): string | undefined {
  // redos-safe: `key` is one of four fixed names; `(?:^| )NAME=(\S*)` is linear (no nested or adjacent repeats)
  const m = new RegExp(`(?:^| )${key}=(\\S*)`).exec(line);
  return m?.[1];
}

/** Epoch seconds from a Slurm time: `%s` epoch digits, or ISO local time `2026-11-28T17:47:05`. */
function parseSlurmTime(v: string | undefined): number | null {
  if (!v || v === 'Unknown' || v === 'None' || v === 'N/A') return null;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.floor(t / 1000) : null;
}

/** `scontrol show node -o` (one line per node) -> name -> state, LastBusyTime, partitions, reason. */
export function parseShowNode(
  text: string,
): Map<string, { state: string; lastBusy: number | null; partitions: string[]; reason: string }> {
  const out = new Map<
    string,
    { state: string; lastBusy: number | null; partitions: string[]; reason: string }
  >();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const name = field(line, 'NodeName');
    const state = field(line, 'State');
    if (!name || !state) {
      throw new InputError(
        `scontrol show node line ${i + 1}: expected 'NodeName=... State=...', got '${line.slice(0, 80)}'`,
      );
    }
    const parts = field(line, 'Partitions');
    // Reason is free text up to the next ` Key=` (it is the last field in 22.05)
    const r = /(?:^| )Reason=(.*?)(?= [A-Za-z]+=|$)/.exec(line);
    out.set(name, {
      state,
      lastBusy: parseSlurmTime(field(line, 'LastBusyTime')),
      partitions: parts && parts !== '(null)' ? parts.split(',') : [],
      reason: r ? r[1].trim() : '',
    });
  });
  return out;
}

/** A `SuspendExcNodes` entry: a hostlist, all excluded (`count` null) or only its first `count` idle nodes. */
export interface ExcSet {
  text: string;
  nodes: Set<string>;
  count: number | null;
}

export interface SlurmPowerConfig {
  version: string;
  /** SuspendProgram and ResumeProgram set and SuspendTime not INFINITE: manual power_down/up work. */
  powerSave: boolean;
  suspendTime: string;
  /** Nodes per minute, 0 = no limit. */
  suspendRate: number;
  resumeRate: number;
  suspendExcNodes: ExcSet[];
  suspendExcParts: string[];
}

/** Split at commas outside brackets (`node14,node[09-16]:1` -> `node14`, `node[09-16]:1`). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

/** `SuspendExcNodes` value -> sets (Slurm 22.05 syntax: `list`, `list:N`, several comma-separated). */
export function parseSuspendExcNodes(v: string): ExcSet[] {
  if (v === '' || v === '(null)') return [];
  return splitTop(v).map((entry) => {
    const m = /^(.*):(\d+)$/.exec(entry);
    const list = m ? m[1] : entry;
    return { text: entry, nodes: new Set(expand(list)), count: m ? Number(m[2]) : null };
  });
}

/** `scontrol show config` -> the power-save settings advise needs. */
export function parseShowConfig(text: string): SlurmPowerConfig {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+=\s?(.*)$/.exec(line);
    if (m) kv.set(m[1], m[2].trim());
  }
  const set = (k: string) => {
    const v = kv.get(k);
    return v !== undefined && v !== '' && v !== '(null)';
  };
  const rate = (k: string) => {
    const n = Number.parseInt(kv.get(k) ?? '0', 10);
    return Number.isFinite(n) && n > 0 ? n : 0;
  };
  const suspendTime = kv.get('SuspendTime') ?? 'NONE';
  const parts = kv.get('SuspendExcParts') ?? '';
  return {
    version: kv.get('SLURM_VERSION') ?? 'unknown',
    powerSave:
      set('SuspendProgram') &&
      set('ResumeProgram') &&
      !/^(INFINITE|NONE|-1)/i.test(suspendTime) &&
      !suspendTime.startsWith('0 '),
    suspendTime,
    suspendRate: rate('SuspendRate'),
    resumeRate: rate('ResumeRate'),
    suspendExcNodes: parseSuspendExcNodes(kv.get('SuspendExcNodes') ?? ''),
    suspendExcParts: parts === '' || parts === '(null)' ? [] : parts.split(','),
  };
}

/** Join sinfo's view (which nodes, in the partition) with scontrol's (full state), sorted by host name. */
export function joinNodes(
  sinfo: ReturnType<typeof parseSinfo>,
  show: ReturnType<typeof parseShowNode>,
): SlurmNode[] {
  const order = sortHosts(sinfo.map((s) => s.name));
  const by = new Map(sinfo.map((s) => [s.name, s]));
  return order.map((name) => {
    const s = by.get(name) as { name: string; state: string; reason: string };
    const d = show.get(name);
    if (!d) throw new InputError(`node ${name}: listed by sinfo but not by 'scontrol show node'`);
    return {
      name,
      sinfoState: s.state,
      state: d.state,
      reason: d.reason || s.reason,
      lastBusy: d.lastBusy,
      partitions: d.partitions,
    };
  });
}

/** Runs a Slurm client command and returns its stdout; one-line UserErrors when missing or failing. */
export type SlurmRunner = (cmd: string, args: string[]) => Promise<string>;

export const runSlurm: SlurmRunner = (cmd, args) =>
  new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, SLURM_TIME_FORMAT: '%s' },
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        const line = `${cmd} ${args.join(' ')}`;
        if (e.code === 'ENOENT') {
          return reject(
            new UserError(`${cmd} not found on PATH: run this on a host with the Slurm client tools`),
          );
        }
        if (e.killed) return reject(new UserError(`${line}: no answer within 60 s (is slurmctld up?)`));
        const why = (stderr || stdout || e.message).trim().split('\n')[0] || `exit code ${e.code}`;
        reject(new UserError(`${line} failed (exit ${e.code}): ${why}`));
      },
    );
  });

/** Read the partition's nodes (all nodes when no partition) and the power-save config from Slurm. */
export async function readSlurm(
  run: SlurmRunner,
  partition?: string,
): Promise<{ nodes: SlurmNode[]; config: SlurmPowerConfig }> {
  const sinfoArgs = ['-h', '-N', '-o', '%N|%T|%E'];
  if (partition) sinfoArgs.push('-p', partition);
  // one after the other, so a failure names the first command that failed
  const si = await run('sinfo', sinfoArgs);
  const sn = await run('scontrol', ['show', 'node', '-o']);
  const sc = await run('scontrol', ['show', 'config']);
  const nodes = joinNodes(parseSinfo(si), parseShowNode(sn));
  if (nodes.length === 0) {
    throw new UserError(
      partition ? `--partition ${partition}: sinfo lists no nodes in it` : 'sinfo lists no nodes',
    );
  }
  return { nodes, config: parseShowConfig(sc) };
}
