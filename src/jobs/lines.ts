/**
 * Stream the lines of a text file, plain or gzip (detected by its magic bytes, whatever the name),
 * without loading it whole. Used by every file-based job source.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { InputError, UserError } from '../util/errors.js';
import type { JobRecord, ParseReport } from './record.js';
import type { JobSource } from './source.js';

/** A file job source that can say how far it has read (bytes), for progress bars. */
export interface ProgressingSource extends JobSource {
  progress(): { done: number; total: number };
}

export interface LineStream {
  path: string;
  gzip: boolean;
  /** Size of the file on disk (compressed size for gzip). */
  totalBytes: number;
  /** Bytes of the file read so far (compressed bytes for gzip), for progress bars. */
  bytesRead(): number;
  /** The lines, without their end-of-line characters. Read once. */
  lines: AsyncIterableIterator<string>;
  /** Stop reading early and release the file. */
  close(): void;
}

/** A file-system failure as a one-line user error. */
function fileError(path: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : (code ?? String(e));
  return new UserError(`cannot read ${path}: ${why}`);
}

/** The first bytes of a file (fewer if it is shorter). */
export async function readHead(path: string, n: number): Promise<Buffer> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fileError(path, e);
  }
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch (e) {
    throw fileError(path, e);
  } finally {
    await fh.close();
  }
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export interface OpenLinesOptions {
  /**
   * Split at LF only and keep every CR (a CRLF line keeps its CR: the reader drops it): for formats whose
   * quoted cells may hold a CR (the job CSV). By default CRLF, LF and a lone CR end a line, as in readline.
   */
  lfOnly?: boolean;
}

/** Lines of a text stream split at LF only, CRs kept. */
async function* lfLines(text: AsyncIterable<string>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of text) {
    const t = rest + chunk;
    let from = 0;
    for (let nl = t.indexOf('\n'); nl >= 0; nl = t.indexOf('\n', from)) {
      yield t.slice(from, nl);
      from = nl + 1;
    }
    rest = t.slice(from);
  }
  if (rest !== '') yield rest;
}

/**
 * The lines of a file (plain or gzip) as a stream. A UTF-8 byte-order mark at the start of the file is
 * dropped, so the first line reads the same with or without one.
 */
export async function openLines(path: string, opts: OpenLinesOptions = {}): Promise<LineStream> {
  const head = await readHead(path, 2);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw fileError(path, e);
  }
  const gzip = isGzip(head);
  const raw: ReadStream = createReadStream(path, { highWaterMark: 1 << 16 });
  const text = gzip ? raw.pipe(createGunzip()) : raw;
  if (gzip) raw.on('error', (e) => text.destroy(e)); // pipe() does not forward read errors
  let inner: AsyncIterator<string>;
  let rl: ReturnType<typeof createInterface> | undefined;
  if (opts.lfOnly) {
    text.setEncoding('utf8');
    inner = lfLines(text as AsyncIterable<string>);
  } else {
    rl = createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY });
    inner = rl[Symbol.asyncIterator]();
  }
  const close = () => {
    rl?.close();
    raw.destroy();
    if (gzip) text.destroy();
  };
  let first = true;
  async function* lines(): AsyncGenerator<string> {
    try {
      for (;;) {
        let r: IteratorResult<string>;
        try {
          r = await inner.next();
        } catch (e) {
          const code = (e as NodeJS.ErrnoException)?.code;
          if (gzip && (code?.startsWith('Z_') || /unexpected end of file/i.test(String(e)))) {
            throw new InputError(`${path}: damaged gzip data (${(e as Error).message})`);
          }
          throw fileError(path, e);
        }
        if (r.done) return;
        if (first) {
          first = false;
          if (r.value.charCodeAt(0) === 0xfeff) {
            yield r.value.slice(1);
            continue;
          }
        }
        yield r.value;
      }
    } finally {
      close();
    }
  }
  return { path, gzip, totalBytes: size, bytesRead: () => raw.bytesRead, lines: lines(), close };
}

/** A line-by-line job parser whose first non-blank line is a header (the sacct and job CSV parsers). */
export interface HeaderedParser {
  readonly report: ParseReport;
  /** One line (1-based number): the header first (throws on a bad one), then a job or null (skipped). */
  line(text: string, lineNo: number): JobRecord | null;
  /** End of input (e.g. a record left open). */
  finish?(): void;
}

/** The jobs of text held in memory (tests, small inputs), line by line through `parser` (1-based numbers). */
export function parseText(text: string, parser: HeaderedParser): JobRecord[] {
  const jobs: JobRecord[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((l, i) => {
    const j = parser.line(l, i + 1);
    if (j) jobs.push(j);
  });
  parser.finish?.();
  return jobs;
}

/**
 * Open a header-then-rows job file (plain or gzip) as a source: the header is read and checked before
 * this returns, so a wrong file fails at open time, before any output is written; then the rows stream.
 * `empty` is the message of a file with no header line.
 */
export async function openHeadered(
  path: string,
  kind: JobSource['kind'],
  parser: HeaderedParser,
  empty: string,
  opts: OpenLinesOptions = {},
): Promise<ProgressingSource> {
  const ls = await openLines(path, opts);
  let lineNo = 0;
  try {
    for (;;) {
      const r = await ls.lines.next();
      if (r.done) throw new InputError(`${path}: ${empty}`);
      lineNo++;
      if (r.value.trim() === '') continue;
      parser.line(r.value, lineNo);
      break;
    }
  } catch (e) {
    ls.close();
    throw e;
  }
  async function* jobs(): AsyncGenerator<JobRecord> {
    for await (const l of ls.lines) {
      const j = parser.line(l, ++lineNo);
      if (j) yield j;
    }
    parser.finish?.();
  }
  return {
    kind,
    meta: {},
    report: parser.report,
    jobs: jobs(),
    progress: () => ({ done: ls.bytesRead(), total: ls.totalBytes }),
  };
}
