import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  AtomicFileWriter,
  fsyncDir,
  mkdirDurable,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../src/util/atomic.js';

const root = mkdtempSync(join(tmpdir(), 'pcm-atomic-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('mkdirDurable creates every missing level and is a no-op when the directory exists', async () => {
  const deep = join(root, 'a', 'b', 'c');
  await mkdirDurable(deep);
  assert.ok(statSync(deep).isDirectory());
  await mkdirDurable(deep);
  await mkdirDurable(join(root, 'a'));
  assert.deepEqual(readdirSync(join(root, 'a')), ['b']);
});

test('writeFileAtomic creates missing directories and leaves no temp file', async () => {
  const f = join(root, 'x', 'y', 'model.json');
  await writeFileAtomic(f, '{"v":1}\n');
  await writeFileAtomic(f, '{"v":2}\n');
  assert.equal(readFileSync(f, 'utf8'), '{"v":2}\n');
  assert.deepEqual(readdirSync(join(root, 'x', 'y')), ['model.json']);
  writeFileAtomicSync(f, 'sync');
  assert.equal(readFileSync(f, 'utf8'), 'sync');
});

test('AtomicFileWriter shows the file only on commit; abort leaves nothing', () => {
  const f = join(root, 'w.csv');
  const w = new AtomicFileWriter(f);
  w.write('a,b\n');
  assert.equal(existsSync(f), false);
  w.commit();
  assert.equal(readFileSync(f, 'utf8'), 'a,b\n');
  const g = join(root, 'g.csv');
  const v = new AtomicFileWriter(g);
  v.write('x');
  v.abort();
  assert.equal(existsSync(g), false);
  assert.equal(
    readdirSync(root).some((n) => n.endsWith('.tmp')),
    false,
  );
});

test('fsyncDir does not throw on a missing directory', () => {
  fsyncDir(join(root, 'missing'));
});
