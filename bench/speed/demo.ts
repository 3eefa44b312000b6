/**
 * `npm start` as a new user runs it: `pcm demo` (the built CLI, dist/cli/main.js) in a fresh directory, timed
 * to a served dashboard, then asked for /forecast/latest and the model's training curves, then stopped.
 *
 *   node --import tsx bench/speed/demo.ts DIR [--nice 10]
 *
 * DIR must not exist (it is created and left behind with the demo's files). Prints the seconds to each step
 * (from the demo's own progress lines), to `pcm serve: listening`, the load average before and after, the
 * demo's one-line verdict, the seconds to the first forecast (/forecast/latest 200) and the two routes' HTTP status. Run `npm run build` first. Takes 3-10 minutes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { freePort } from '../../harness/net.js';
import { numArg, positionals, usage } from '../lib/args.js';

const [dir] = positionals(['nice']);
if (!dir) usage(import.meta.url, 'DIR [--nice 10]', ['DIR: a directory that does not exist yet']);
if (existsSync(dir)) usage(import.meta.url, 'DIR [--nice 10]', [`${dir} exists: give a fresh one`]);
const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
if (!existsSync(cli)) usage(import.meta.url, 'DIR [--nice 10]', ['no dist/cli/main.js: run npm run build']);

const port = await freePort();
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const loadBefore = load();
const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(1);
const child = spawn(
  'nice',
  ['-n', String(numArg('nice', 10)), process.execPath, cli, 'demo', '--dir', dir, '--port', String(port)],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
const steps: string[] = [];
let verdict = '';
const listening = new Promise<void>((resolve, reject) => {
  const watch = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.startsWith('== pcm demo:')) steps.push(`${secs()} s  ${line.slice(13)}`);
      if (line.startsWith('pcm demo: the trained')) verdict = line;
      if (line.startsWith('pcm serve: listening')) resolve();
    }
  };
  child.stdout.on('data', watch);
  child.stderr.on('data', watch);
  child.once('exit', (code) => reject(new Error(`pcm demo exited with ${code} before serving`)));
});
await listening;
const served = secs();
const loadAfter = load();
const status = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
// the first forecast: the live feed writes its pre-roll right after the service starts listening
let first = await status('/forecast/latest');
for (let k = 0; k < 120 && first !== 200; k++) {
  await new Promise((r) => setTimeout(r, 500));
  first = await status('/forecast/latest');
}
const forecastAt = secs();
const routes = {
  '/forecast/latest': first,
  '/model/training-curves.svg': await status('/model/training-curves.svg'),
};
child.kill('SIGINT');
await new Promise((r) => child.once('exit', r));
process.stdout.write(
  `${steps.join('\n')}\n${served} s  to a served dashboard\n${forecastAt} s  to its first forecast\nload average (1, 5, 15 min): ${loadBefore} before, ${loadAfter} when serving\n${verdict}\n${JSON.stringify(routes)}\n`,
);
