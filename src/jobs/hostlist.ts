/**
 * Slurm hostlist expressions: `cn[001-004,010],gpu[1-2]`, `rack[1-2]-n[01-02]`, `node05`.
 *
 * Grammar (as Slurm reads it): entries separated by commas or whitespace outside brackets; an entry is
 * literal text and bracket groups; a group holds comma-separated numbers or `lo-hi` ranges. Several
 * groups in one entry give their cartesian product, leftmost group varying slowest (like Slurm).
 * A range is zero-padded to the width of its low bound: `n[08-10]` → n08 n09 n10, `n[8-10]` → n8 n9 n10.
 */
import { InputError } from '../util/errors.js';

/** Expansions larger than this are refused (a typo like `n[0-99999999]` must not eat the memory). */
const MAX_HOSTLIST_NAMES = 10_000_000;

/** Digit runs longer than this are not treated as numbers (beyond exact double precision). */
const MAX_DIGITS = 15;

/** Values Slurm prints when a job has no nodes. */
const EMPTY_VALUES = new Set(['', 'None assigned', '(null)']);

interface Range {
  lo: number;
  hi: number;
  /** Zero-padding width (length of the low bound as written). */
  width: number;
}

/** A parsed entry: literal strings and bracket groups (lists of ranges), in order. */
type Part = string | Range[];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSeparator(c: number): boolean {
  return c === 44 || c === 32 || c === 9 || c === 10 || c === 13; // , space tab \n \r
}

function fail(expr: string, pos: number, what: string): never {
  const shown = expr.length > 60 ? `${expr.slice(0, 57)}...` : expr;
  throw new InputError(`hostlist ${JSON.stringify(shown)}: ${what} at position ${pos + 1}`);
}

/** Parse one bracket group starting after `[` at `i`; returns its ranges and the index after `]`. */
function parseGroup(expr: string, open: number): [Range[], number] {
  const ranges: Range[] = [];
  let i = open + 1;
  for (;;) {
    // one item: lo or lo-hi
    const loStart = i;
    while (i < expr.length && isDigit(expr.charCodeAt(i))) i++;
    if (i === loStart) {
      if (i >= expr.length) fail(expr, open, "unclosed '['");
      const c = expr[i];
      if (c === ',' || c === ']' || c === '-') fail(expr, i, 'empty range');
      if (c === '[') fail(expr, i, "nested '['");
      fail(expr, i, `expected a number, found '${c}'`);
    }
    if (i - loStart > MAX_DIGITS) fail(expr, loStart, `number longer than ${MAX_DIGITS} digits`);
    const loText = expr.slice(loStart, i);
    const lo = Number(loText);
    let hi = lo;
    if (expr.charCodeAt(i) === 45) {
      // '-'
      const hiStart = ++i;
      while (i < expr.length && isDigit(expr.charCodeAt(i))) i++;
      if (i === hiStart) {
        if (i >= expr.length) fail(expr, open, "unclosed '['");
        fail(expr, i, `expected a number after '-', found '${expr[i]}'`);
      }
      if (i - hiStart > MAX_DIGITS) fail(expr, hiStart, `number longer than ${MAX_DIGITS} digits`);
      hi = Number(expr.slice(hiStart, i));
      if (hi < lo) fail(expr, loStart, `reversed range ${loText}-${expr.slice(hiStart, i)}`);
    }
    ranges.push({ lo, hi, width: loText.length });
    if (i >= expr.length) fail(expr, open, "unclosed '['");
    const c = expr[i];
    if (c === ']') return [ranges, i + 1];
    if (c === ',') {
      i++;
      continue;
    }
    if (c === '[') fail(expr, i, "nested '['");
    fail(expr, i, `expected ',' or ']', found '${c}'`);
  }
}

/** Split an expression into entries of literal/bracket parts; throws InputError naming the position. */
function parse(expr: string): Part[][] {
  const entries: Part[][] = [];
  let parts: Part[] = [];
  let lit = '';
  let i = 0;
  const endEntry = () => {
    if (lit) parts.push(lit);
    if (parts.length) entries.push(parts);
    parts = [];
    lit = '';
  };
  while (i < expr.length) {
    const c = expr.charCodeAt(i);
    if (isSeparator(c)) {
      endEntry();
      i++;
    } else if (c === 91) {
      // '['
      if (lit) parts.push(lit);
      lit = '';
      const [group, next] = parseGroup(expr, i);
      parts.push(group);
      i = next;
    } else if (c === 93) {
      fail(expr, i, "unmatched ']'");
    } else {
      lit += expr[i];
      i++;
    }
  }
  endEntry();
  return entries;
}

function groupSize(g: Range[]): number {
  let n = 0;
  for (const r of g) n += r.hi - r.lo + 1;
  return n;
}

function entrySize(parts: Part[]): number {
  let n = 1;
  for (const p of parts) if (typeof p !== 'string') n *= groupSize(p);
  return n;
}

/**
 * Number of names an expression stands for (duplicates counted), without expanding it.
 * Throws InputError for malformed input; `'None assigned'` and empty give 0.
 */
export function count(expr: string): number {
  const e = expr.trim();
  if (EMPTY_VALUES.has(e)) return 0;
  let n = 0;
  for (const parts of parse(e)) n += entrySize(parts);
  if (!Number.isSafeInteger(n))
    throw new InputError(`hostlist ${JSON.stringify(e.slice(0, 60))}: too many names to count`);
  return n;
}

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/**
 * All names of an expression, in expression order (duplicates kept, like `scontrol show hostnames`).
 * `'None assigned'` and empty give []. Throws InputError for malformed input or more than `maxNames` names.
 */
export function expand(expr: string, maxNames = MAX_HOSTLIST_NAMES): string[] {
  const e = expr.trim();
  if (EMPTY_VALUES.has(e)) return [];
  const entries = parse(e);
  let total = 0;
  for (const parts of entries) {
    total += entrySize(parts);
    if (total > maxNames) {
      throw new InputError(
        `hostlist ${JSON.stringify(e.slice(0, 60))}: expands to more than ${maxNames} names`,
      );
    }
  }
  const out: string[] = [];
  for (const parts of entries) expandEntry(parts, out);
  return out;
}

/** Cartesian product of one entry's groups, leftmost group slowest (an odometer over group items). */
function expandEntry(parts: Part[], out: string[]): void {
  // each group flattened to its formatted numbers
  const lists: string[][] = parts.map((p) => {
    if (typeof p === 'string') return [p];
    const items: string[] = [];
    for (const r of p) for (let n = r.lo; n <= r.hi; n++) items.push(pad(n, r.width));
    return items;
  });
  const idx = new Array<number>(lists.length).fill(0);
  for (;;) {
    let name = '';
    for (let k = 0; k < lists.length; k++) name += lists[k][idx[k]];
    out.push(name);
    // advance the odometer from the rightmost part
    let k = lists.length - 1;
    while (k >= 0) {
      idx[k]++;
      if (idx[k] < lists[k].length) break;
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

/** A host name split at its last digit run: `rack2-n07x` → prefix `rack2-n`, digits `07`, suffix `x`. */
interface Split {
  name: string;
  prefix: string;
  suffix: string;
  /** The digit run as written, '' when the name is treated as a literal. */
  digits: string;
  num: number;
}

const INVALID_NAME = /[[\],\s]/;

function splitName(name: string): Split {
  let end = name.length;
  while (end > 0 && !isDigit(name.charCodeAt(end - 1))) end--;
  let start = end;
  while (start > 0 && isDigit(name.charCodeAt(start - 1))) start--;
  if (end === 0 || end - start > MAX_DIGITS) return { name, prefix: name, suffix: '', digits: '', num: -1 };
  const digits = name.slice(start, end);
  return { name, prefix: name.slice(0, start), suffix: name.slice(end), digits, num: Number(digits) };
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical host order that `compress` emits: by prefix, suffix, then number (literals first). */
function cmpSplit(a: Split, b: Split): number {
  return (
    cmpStr(a.prefix, b.prefix) ||
    cmpStr(a.suffix, b.suffix) ||
    (a.digits === '' ? 0 : 1) - (b.digits === '' ? 0 : 1) ||
    a.num - b.num ||
    a.digits.length - b.digits.length
  );
}

function validName(name: string, i: number): void {
  if (name === '' || INVALID_NAME.test(name)) {
    throw new InputError(
      `host name #${i + 1} ${JSON.stringify(name)}: expected no spaces, commas or brackets`,
    );
  }
}

/** Unique names in the order `expand(compress(names))` gives back. */
export function sortHosts(names: readonly string[]): string[] {
  names.forEach(validName);
  return [...new Set(names)]
    .map(splitName)
    .sort(cmpSplit)
    .map((s) => s.name);
}

/**
 * The shortest-ish hostlist for a set of names: groups names by prefix, suffix and zero padding and
 * makes ranges (`cn001 cn002 cn003 cn010` → `cn[001-003,010]`). Duplicates are dropped;
 * `expand(compress(x))` equals `sortHosts(x)`. Throws InputError for names with spaces, commas or brackets.
 */
export function compress(names: readonly string[]): string {
  names.forEach(validName);
  const sorted = [...new Set(names)].map(splitName).sort(cmpSplit);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i];
    if (first.digits === '') {
      out.push(first.name);
      i++;
      continue;
    }
    // one (prefix, suffix) group: consecutive numbers that print the same at the low bound's width
    const items: string[] = [];
    let j = i;
    while (j < sorted.length && sorted[j].digits !== '') {
      const s = sorted[j];
      if (s.prefix !== first.prefix || s.suffix !== first.suffix) break;
      const loText = s.digits;
      const width = loText.length;
      let hi = s.num;
      let k = j + 1;
      while (k < sorted.length) {
        const t = sorted[k];
        if (t.prefix !== first.prefix || t.suffix !== first.suffix || t.digits === '') break;
        if (t.num !== hi + 1 || t.digits !== pad(t.num, width)) break;
        hi = t.num;
        k++;
      }
      items.push(hi === s.num ? loText : `${loText}-${pad(hi, width)}`);
      j = k;
    }
    out.push(
      items.length === 1 && !items[0].includes('-')
        ? `${first.prefix}${items[0]}${first.suffix}`
        : `${first.prefix}[${items.join(',')}]${first.suffix}`,
    );
    i = j;
  }
  return out.join(',');
}
