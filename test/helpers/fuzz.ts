/**
 * Shared pieces of the fuzz tests: a per-input time bound (a hang guard, not a speed test: the bound is
 * hundreds of times what one input takes) and the check that a rejection is a clear, one-line UserError.
 */
import assert from 'node:assert/strict';
import { UserError } from '../../src/util/errors.js';

/** Per-input bound, ms. One generated input takes well under a millisecond to ~10 ms; 2 s means a hang. */
const FUZZ_BOUND_MS = Number(process.env.PCM_FUZZ_BOUND_MS ?? 2000);

function show(input: unknown): string {
  const s = typeof input === 'string' ? JSON.stringify(input) : String(input);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

/**
 * Run one fuzz input; fail if it spends longer than the bound on the CPU (catastrophic backtracking, a loop).
 * CPU time, not wall time: a hang burns CPU, while a loaded machine (the CI's other tests, another job) only
 * stretches the wall clock — that once failed an input here that took a millisecond of work.
 */
export function bounded<T>(input: unknown, f: () => T, ms = FUZZ_BOUND_MS): T {
  const c0 = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(c0);
  const dt = (c.user + c.system) / 1000;
  assert.ok(dt < ms, `input took ${dt.toFixed(0)} ms of CPU (bound ${ms} ms): ${show(input)}`);
  return r;
}

/** The async form: the bound covers the whole promise (I/O included). */
export async function boundedAsync<T>(input: unknown, f: () => Promise<T>, ms = FUZZ_BOUND_MS): Promise<T> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`input did not finish within ${ms} ms: ${show(input)}`)), ms);
  });
  try {
    const r = await Promise.race([f(), timeout]);
    const dt = performance.now() - t0;
    assert.ok(dt < ms, `input took ${dt.toFixed(0)} ms (bound ${ms} ms): ${show(input)}`);
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A rejection must be a UserError (or subclass) with one non-empty line, no stack text; `mustMention`
 * (e.g. the file path) must appear in it.
 */
export function assertClearError(e: unknown, mustMention?: string): asserts e is UserError {
  assert.ok(e instanceof UserError, `not a UserError: ${(e as Error)?.stack ?? String(e)}`);
  assert.ok(e.message.trim().length > 0, 'empty message');
  assert.ok(!/[\n\r]/.test(e.message), `message has a line break: ${JSON.stringify(e.message)}`);
  assert.ok(!/\n\s+at /.test(e.message));
  if (mustMention !== undefined)
    assert.ok(e.message.includes(mustMention), `message does not name ${mustMention}: ${e.message}`);
}
