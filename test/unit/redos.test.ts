/**
 * Every regular expression in src/ passes a ReDoS analyser (recheck: automaton and fuzz checkers), or
 * carries a `redos-safe:` comment on its line or the line above that says why it is safe. Regular
 * expressions built at run time (`new RegExp(...)`) must carry that comment: they cannot be checked here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSync } from 'recheck';
import ts from 'typescript';

interface Found {
  file: string;
  line: number;
  source: string;
  flags: string;
  /** false: built at run time (`new RegExp(...)`). */
  literal: boolean;
  justified: boolean;
}

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

/** Regex literals and `RegExp(...)` calls of one file, with whether a `redos-safe:` comment covers them. */
function regexesOf(file: string): Found[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Found[] = [];
  const justified = (line: number) =>
    /redos-safe:/.test(lines[line] ?? '') || /redos-safe:/.test(lines[line - 1] ?? '');
  const visit = (node: ts.Node): void => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
    if (ts.isRegularExpressionLiteral(node)) {
      const t = node.text;
      const end = t.lastIndexOf('/');
      out.push({
        file,
        line: line + 1,
        source: t.slice(1, end),
        flags: t.slice(end + 1),
        literal: true,
        justified: justified(line),
      });
    } else if (
      (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
      node.expression.getText(sf) === 'RegExp'
    ) {
      out.push({
        file,
        line: line + 1,
        source: node.getText(sf),
        flags: '',
        literal: false,
        justified: justified(line),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const found = [...tsFiles('src')].flatMap(regexesOf);

test('the scan finds the regular expressions of src/ (sanity: it is not looking at nothing)', () => {
  assert.ok(found.filter((f) => f.literal).length >= 50, `only ${found.length} found`);
  assert.ok(found.some((f) => f.file.endsWith('swf.ts')));
});

test('every regular expression in src/ is safe by recheck or says why it is safe', () => {
  const bad: string[] = [];
  let checked = 0;
  for (const f of found) {
    if (f.justified) continue;
    if (!f.literal) {
      bad.push(
        `${f.file}:${f.line}: ${f.source}: built at run time; add a "redos-safe:" comment saying why it is safe`,
      );
      continue;
    }
    const r = checkSync(f.source, f.flags, { timeout: 10_000 });
    checked++;
    if (r.status !== 'safe') {
      const why =
        r.status === 'vulnerable' ? `${r.complexity.summary}, attack ${r.attack.pattern}` : r.status;
      bad.push(`${f.file}:${f.line}: /${f.source}/${f.flags}: ${why}`);
    }
  }
  console.log(
    `# recheck: ${checked} regular expressions checked, ${found.filter((f) => f.justified).length} justified by a comment`,
  );
  assert.deepEqual(bad, []);
});
