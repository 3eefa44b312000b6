import { Document, isSeq, visit } from 'yaml';
import { loadConfig } from '../../../config/load.js';
import { openJobSource } from '../../../jobs/open.js';
import { formatReport } from '../../../jobs/record.js';
import { calibrate } from '../../../sim/calibrate.js';
import { writeFileAtomic } from '../../../util/atomic.js';
import { UserError } from '../../../util/errors.js';
import type { SimulateOptions } from './options.js';

/** `--calibrate TRACE --out sim.yaml`: fit the generator to a trace and write a Simulator section. */
export async function runCalibrate(o: SimulateOptions): Promise<void> {
  if (!o.out) throw new UserError('--calibrate needs --out FILE (where to write the Simulator section)');
  const cfg = loadConfig(o.config);
  const src = await openJobSource(o.calibrate as string, { ppn: o.ppn ?? cfg.Cluster.CpusPerNode });
  const cal = await calibrate(src.jobs, src.meta, { nodes: o.nodes, timeZone: src.meta.timeZone });
  const doc = new Document({ Simulator: cal.simulator });
  // number lists (hour weights, round limits) on one line each
  visit(doc, {
    Seq(_, node) {
      if (isSeq(node)) node.flow = true;
    },
  });
  doc.commentBefore = ` Simulator section fitted by: pcm simulate --calibrate ${o.calibrate}\n ${cal.summary.jobs} jobs over ${cal.summary.days.toFixed(1)} days, ${cal.summary.bursts} bursts, trace load ${(100 * cal.summary.load).toFixed(1)} %`;
  await writeFileAtomic(o.out, doc.toString({ lineWidth: 0 }));
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ out: o.out, summary: cal.summary, report: src.report, simulator: cal.simulator }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`${formatReport(src.report)}\n`);
    const s = cal.summary;
    process.stdout.write(
      `fitted ${s.jobs} jobs (${s.skipped} without a run time skipped) over ${s.days.toFixed(1)} days on ${s.nodes} nodes: ` +
        `${s.bursts} bursts (${s.burstJobs} jobs), trace load ${(100 * s.load).toFixed(1)} %\nwrote ${o.out}\n`,
    );
  }
}
