import cliProgress from 'cli-progress';

/** A progress bar on stderr, drawn only when stderr is a TTY (and PCM_NO_PROGRESS is unset). */
export interface Progress {
  update(value: number, payload?: Record<string, string | number>): void;
  setTotal(total: number): void;
  stop(): void;
}

const noop: Progress = { update() {}, setTotal() {}, stop() {} };

function progressEnabled(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.PCM_NO_PROGRESS;
}

/**
 * @param label shown before the bar
 * @param total units of work (0 if unknown yet)
 * @param extra a template of payload fields to show after the bar, e.g. 'loss {loss} lr {lr}'
 */
export function startProgress(
  label: string,
  total: number,
  extra = '',
  initial: Record<string, string | number> = {},
): Progress {
  if (!progressEnabled()) return noop;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}${extra ? ` | ${extra}` : ''}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  // every {field} of `extra` needs a starting value, else the first frame shows the raw template
  const start: Record<string, string | number> = { ...initial };
  for (const m of extra.matchAll(/\{(\w+)\}/g)) if (!(m[1] in start)) start[m[1]] = '-';
  bar.start(Math.max(total, 1), 0, start);
  return {
    update: (v, p) => bar.update(v, p),
    setTotal: (t) => bar.setTotal(t),
    stop: () => bar.stop(),
  };
}
