/**
 * A second process for the controller-lock tests: takes the lock of the state directory argv[2] (waiting up
 * to argv[3] seconds), prints `locked` or the one-line refusal, and holds it until killed or stdin closes.
 */
import { acquireControllerLock } from '../../src/power/run/lock.js';

const [dir, wait = '0'] = process.argv.slice(2);
try {
  const lock = await acquireControllerLock(dir, 'lock-holder test', Number(wait));
  process.stdout.write(`locked${lock.tookOver ? ` (took over pid ${lock.tookOver.pid})` : ''}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    lock.release();
    process.exit(0);
  });
} catch (e) {
  process.stdout.write(`refused: ${(e as Error).message}\n`);
  process.exit(3);
}
