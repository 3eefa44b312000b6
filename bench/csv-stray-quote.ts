/**
 * A job CSV with one stray quote (an unterminated quoted cell) followed by N ordinary rows: the reader
 * keeps the record open up to 1 MB. Before the fix each following line re-split the whole open record
 * (quadratic: ~6 s for 20 000 rows); now each line is scanned once. Prints ms per N.
 *
 *   node --import tsx bench/csv-stray-quote.ts [N,N,...]
 */
import { JOBS_CSV_HEADER, parseJobsCsvText } from '../src/jobs/jobsCsv.js';

const sizes = (process.argv[2] ?? '5000,10000,20000,40000').split(',').map(Number);
const row = '1,10,,20,30,1,4,3600,batch,COMPLETED,alice,cn1';
for (const n of sizes) {
  const lines = [JOBS_CSV_HEADER, '9,10,,20,30,1,4,3600,"batch,COMPLETED,alice,x'];
  for (let i = 0; i < n; i++) lines.push(row);
  const text = lines.join('\n');
  const t0 = performance.now();
  const { jobs, report } = parseJobsCsvText(text);
  const ms = performance.now() - t0;
  console.log(
    `${n} rows after a stray quote: ${ms.toFixed(0)} ms, ${jobs.length} jobs read, ${report.skipped} record skipped (${report.firstSkipped[0]?.reason})`,
  );
}
