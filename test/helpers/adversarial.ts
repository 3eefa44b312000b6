/**
 * Adversarial shapes for the parser fuzzers: long runs of whitespace, digits and separators, the inputs
 * that make a backtracking regular expression quadratic (`\s*(.*?)\s*$` after a keyword took 0.3 s on
 * 16 000 spaces and minutes on 1 MB). Random strings never contain such runs, so every parser fuzzer mixes
 * them in explicitly.
 */
import fc from 'fast-check';

/** Characters a run is made of: blanks, digits, and the separators the parsers split on. */
const RUN_CHARS = [' ', '\t', '\r', '0', '9', '-', '.', ',', '|', ';', ':', '=', '"', '[', ']', '\\', 'a'];

/** A run of 10 000 - 200 000 characters, one character repeated or two alternating (`0 0 0`, `-0-0`). */
export const adversarialRun: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...RUN_CHARS),
    fc.constantFrom('', ...RUN_CHARS),
    fc.integer({ min: 10_000, max: 200_000 }),
  )
  .map(([a, b, n]) => (a + b).repeat(Math.ceil(n / (a + b).length)).slice(0, n));

/** `line` with a run inserted at a random place (start, end or inside), then a final character after it. */
export function withRun(line: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(line, adversarialRun, fc.nat(), fc.constantFrom('', 'b', '0', 'x\u0000', ':'))
    .map(([l, run, at, tail]) => {
      const p = l.length ? at % (l.length + 1) : 0;
      return `${l.slice(0, p)}${run}${tail}${l.slice(p)}`;
    });
}
