/**
 * The README's command tables stay runnable as written: every command is `npx pcm <sub-command>` with
 * options that sub-command has, and the try-out table's inputs exist in the checkout and its outputs go
 * under try/ (which git ignores). (Running them takes minutes; each was run by hand as written.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The `npx pcm ...` commands in backticks in the rows of the table that follows `heading`. */
function tableCommands(heading: string): string[] {
  const at = README.indexOf(heading);
  assert.ok(at >= 0, heading);
  const rows = README.slice(at)
    .split('\n\n')
    .find((b) => b.startsWith('| '))!;
  return [...rows.matchAll(/`(npx pcm [^`]+)`/g)].map((m) => m[1]);
}

function sub(program: Command, name: string): Command | undefined {
  return program.commands.find((c) => c.name() === name);
}

/** The `--flags` of a command line (values and placeholders skipped). */
function flags(cmd: string): string[] {
  return cmd.split(/\s+/).filter((w) => w.startsWith('--'));
}

describe('README command tables', () => {
  const program = buildProgram();
  const tried = tableCommands('**Try them on the checkout**');
  const yours = tableCommands('**On your cluster**');

  it('name the sub-commands and options pcm has', () => {
    assert.ok(tried.length >= 9 && yours.length >= 4, `${tried.length} + ${yours.length} commands`);
    for (const c of [...tried, ...yours]) {
      const words = c.split(/\s+/);
      let cmd = sub(program, words[2]);
      assert.ok(cmd, `${c}: no sub-command ${words[2]}`);
      if (words[2] === 'power' || words[2] === 'config') {
        cmd = sub(cmd, words[3]);
        assert.ok(cmd, `${c}: no sub-command ${words[2]} ${words[3]}`);
      }
      const known = new Set(cmd.options.map((o) => o.long));
      for (const f of flags(c)) assert.ok(known.has(f), `${c}: ${words[2]} has no option ${f}`);
    }
  });

  it('the try-out commands read files the checkout has and write under try/', () => {
    const written = new Set<string>();
    for (const c of tried) {
      const words = c.split(/\s+/);
      for (let i = 3; i < words.length; i++) {
        const w = words[i];
        const prev = words[i - 1];
        const isPath = /[/.]/.test(w) && !w.startsWith('--') && !/^\d/.test(w);
        if (!isPath) continue;
        if (/^--(out|out-timeline|json|plots)$/.test(prev)) {
          assert.ok(w.startsWith('try/'), `${c}: writes ${w} outside try/`);
          written.add(w.replace(/\/$/, ''));
        } else
          assert.ok(
            existsSync(join(ROOT, w)) || written.has(w.replace(/\/$/, '')),
            `${c}: reads ${w}, which neither the checkout nor an earlier command has`,
          );
      }
    }
    assert.match(readFileSync(join(ROOT, '.gitignore'), 'utf8'), /^\/try\/$/m);
  });
});
