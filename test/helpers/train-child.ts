/**
 * A child process for the kill -9 test of test/unit/train-trainer.test.ts (not a test file itself):
 *   train OUT [resume]      trains the tiny model (train-fixture.ts) into OUT, 2 threads
 * (kill -9 during a checkpoint save: test/unit/faults-checkpoint.test.ts with test/helpers/checkpoint-saver.ts)
 */
import { train } from '../../src/train/trainer.js';
import { tinyModel, tinyTimeline, tinyTrain } from './train-fixture.js';

const [mode, out, flag] = process.argv.slice(2);
if (mode === 'train') {
  const res = await train(tinyTimeline(), {
    model: tinyModel(),
    train: tinyTrain({ Epochs: 8, Threads: 2 }),
    out,
    resume: flag === 'resume',
  });
  process.stdout.write(`${JSON.stringify(res.history)}\n`);
}
