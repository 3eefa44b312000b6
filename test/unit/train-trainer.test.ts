import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadNeural, readManifest } from '../../src/model/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { tinyModel, tinyTimeline, tinyTrain } from '../helpers/train-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'pcm-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const child = fileURLToPath(new URL('../helpers/train-child.ts', import.meta.url));

/** Run the training child; resolves with its stdout, or kills it (-9) once `killWhen()` holds. */
function runChild(args: string[], killWhen?: () => boolean): Promise<{ out: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let killed = false;
    p.stdout.on('data', (d) => {
      out += d;
    });
    const timer = killWhen
      ? setInterval(() => {
          if (killWhen()) {
            killed = true;
            clearInterval(timer);
            p.kill('SIGKILL');
          }
        }, 5)
      : undefined;
    p.once('error', reject);
    p.once('exit', (code, sig) => {
      if (timer) clearInterval(timer);
      if (code === 0 || (killed && sig === 'SIGKILL')) resolve({ out, killed });
      else reject(new Error(`train child exited with ${code ?? sig}`));
    });
  });
}

describe('trainer', () => {
  it('the loss decreases on a tiny synthetic problem', async () => {
    const out = join(tmp, 'tiny');
    const res = await train(tinyTimeline(), {
      model: tinyModel({ Hidden: 8 }),
      train: tinyTrain({ Epochs: 10, SamplesPerEpoch: 256 }),
      out,
    });
    const h = res.history;
    assert.equal(h.length, 10);
    const last3 = (h[7].train_loss + h[8].train_loss + h[9].train_loss) / 3;
    assert.ok(last3 < 0.9 * h[0].train_loss, `train loss ${h[0].train_loss} -> ${last3}`);
    const best = h[res.bestEpoch];
    assert.ok(best.val_loss < h[0].val_loss, `val loss ${h[0].val_loss} -> ${best.val_loss}`);
    // the saved best model is the best epoch's, and history.json has every epoch
    const m = readManifest(out);
    assert.equal(m.training.best_epoch, res.bestEpoch);
    assert.equal(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).history.length, 10);
    assert.ok(loadNeural(out).predict);
    assert.ok(h.every((e) => e.lr > 0 && e.samples_per_s > 0 && e.epoch_seconds > 0));
  });

  it('stops early when validation stops improving', async () => {
    const out = join(tmp, 'early');
    // lr so small nothing improves after the first epochs; patience 2
    const res = await train(tinyTimeline(), {
      model: tinyModel(),
      train: tinyTrain({
        Epochs: 50,
        LearningRate: 1e-9,
        MinLearningRate: 0,
        EarlyStopPatience: 2,
        WarmupEpochs: 0,
      }),
      out,
    });
    assert.equal(res.stoppedBy, 'early-stop');
    assert.ok(res.history.length < 50);
  });

  it('a run killed (-9) mid-training and resumed ends with the same metrics as an uninterrupted run', async () => {
    const a = join(tmp, 'uninterrupted');
    const full = JSON.parse((await runChild(['train', a])).out) as Array<{
      val_loss: number;
      train_loss: number;
    }>;
    assert.equal(full.length, 8);
    // kill once the 3rd epoch's last checkpoint exists (the child is then inside epoch 4)
    const b = join(tmp, 'killed');
    const epochsDone = () => {
      try {
        return (readManifest(join(b, 'last')).training.epochs_run as number) ?? 0;
      } catch {
        return 0;
      }
    };
    const killed = await runChild(['train', b], () => epochsDone() >= 3);
    assert.ok(killed.killed, 'the child was killed');
    assert.ok(epochsDone() >= 3 && epochsDone() < 8, `killed after ${epochsDone()} epochs`);
    assert.ok(existsSync(join(b, 'model.json')));
    const resumed = JSON.parse((await runChild(['train', b, 'resume'])).out) as typeof full;
    assert.equal(resumed.length, 8);
    // same thread count and seeds: the same numbers (to float rounding)
    for (let i = 0; i < 8; i++) {
      assert.ok(
        Math.abs(resumed[i].val_loss - full[i].val_loss) <= 1e-6 * Math.abs(full[i].val_loss),
        `epoch ${i}: ${resumed[i].val_loss} vs ${full[i].val_loss}`,
      );
      assert.ok(Math.abs(resumed[i].train_loss - full[i].train_loss) <= 1e-6 * Math.abs(full[i].train_loss));
    }
  });

  it('--resume with another Train.Threads is refused (issue 15: it silently trained another model)', async () => {
    const out = join(tmp, 'threads');
    const tl = tinyTimeline();
    await train(tl, { model: tinyModel(), train: tinyTrain({ Epochs: 1, Threads: 2 }), out });
    await assert.rejects(
      train(tl, { model: tinyModel(), train: tinyTrain({ Epochs: 2, Threads: 1 }), out, resume: true }),
      /--resume: \S+last was trained with 2 thread\(s\), this run would use 1: set Train\.Threads: 2$/,
    );
    const r = await train(tl, {
      model: tinyModel(),
      train: tinyTrain({ Epochs: 2, Threads: 2 }),
      out,
      resume: true,
    });
    assert.equal(r.history.length, 2);
  });
});
