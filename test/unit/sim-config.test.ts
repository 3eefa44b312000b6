import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { generateWorkload, resolveSimulator } from '../../src/sim/generate.js';
import { UserError } from '../../src/util/errors.js';

function problems(text: string): string {
  try {
    parseConfig(text, 'sim.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail('expected a config error');
}

describe('sim config', () => {
  it('has defaults: an empty Simulator section is valid', () => {
    const c = parseConfig('Simulator: {}\n');
    assert.equal(c.Simulator.Arrivals.DayNightRatio, 3);
    assert.equal(c.Simulator.Classes.Long.Share, 0.06);
    const s = resolveSimulator(c.Simulator, c.Cluster);
    assert.equal(s.nodes, c.Cluster.Nodes);
    assert.equal(s.maxJobNodes, c.Cluster.Nodes);
  });

  it('names the key of a negative rate', () => {
    const m = problems('Simulator:\n  Arrivals:\n    JobsPerDay: -5\n  Bursts:\n    PerDay: -1\n');
    assert.match(m, /Simulator\.Arrivals\.JobsPerDay \(line 3\)/);
    assert.match(m, /Simulator\.Bursts\.PerDay \(line 5\)/);
  });

  it('names Classes when the shares do not sum to 1', () => {
    const m = problems('Simulator:\n  Classes:\n    Short:\n      Share: 0.2\n');
    assert.match(
      m,
      /Simulator\.Classes \(line 2\): class shares \(Short \+ Regular \+ Long\) must sum to 1, got 0\.63/,
    );
  });

  it('names Sizes.MaxNodes when the largest job exceeds the cluster', () => {
    const m = problems('Simulator:\n  Nodes: 64\n  Sizes:\n    MaxNodes: 100\n');
    assert.match(m, /Simulator\.Sizes\.MaxNodes \(line 4\): largest job \(100 nodes\) exceeds the cluster/);
    // the same check when the cluster size comes from the command line
    const c = parseConfig('Simulator:\n  Sizes:\n    MaxNodes: 100\n');
    assert.throws(
      () => resolveSimulator(c.Simulator, c.Cluster, { nodes: 50 }),
      (e: unknown) => e instanceof UserError && /Simulator\.Sizes\.MaxNodes: .*--nodes 50/.test(e.message),
    );
  });

  it('names ranges that are out of order', () => {
    const m = problems(
      'Simulator:\n  Arrivals:\n    WorkStart: 18\n    WorkEnd: 8\n  Classes:\n    Long:\n      MinRuntime: 100\n      MaxRuntime: 50\n',
    );
    assert.match(m, /Simulator\.Arrivals\.WorkEnd \(line 4\): must be after WorkStart/);
    assert.match(m, /Simulator\.Classes\.Long\.MaxRuntime \(line 8\): must be greater than MinRuntime/);
    assert.match(
      problems('Simulator:\n  Arrivals:\n    HourWeights: [1, 2]\n'),
      /Simulator\.Arrivals\.HourWeights/,
    );
    assert.match(problems('Simulator:\n  Overrun: sometimes\n'), /Simulator\.Overrun/);
    assert.match(
      problems('Simulator:\n  Sizes:\n    Log2Low: 5\n    MaxNodes: 16\n'),
      /Simulator\.Sizes\.Log2Low/,
    );
  });

  it('names an unknown time zone or holiday country', () => {
    const c = parseConfig('Simulator:\n  TimeZone: Mars/Olympus\n');
    assert.throws(
      () => resolveSimulator(c.Simulator, c.Cluster),
      /Simulator\.TimeZone: unknown time zone 'Mars\/Olympus'/,
    );
    const d = parseConfig('Simulator:\n  Days: 1\n  Arrivals:\n    HolidayCountry: XX\n');
    assert.throws(
      () => generateWorkload(resolveSimulator(d.Simulator, d.Cluster)),
      /Simulator\.Arrivals\.HolidayCountry/,
    );
  });

  it('uses public holidays of a country', () => {
    const base =
      'Simulator:\n  Days: 1\n  Start: 2026-12-25\n  Bursts:\n    PerDay: 0\n  Arrivals:\n    JobsPerDay: 2000\n    WeekendFactor: 1\n';
    const count = (extra: string) => {
      const c = parseConfig(base + extra);
      return generateWorkload(resolveSimulator(c.Simulator, c.Cluster)).jobs.length;
    };
    const plain = count('');
    const holiday = count('    HolidayCountry: DE\n    HolidayFactor: 0.1\n');
    assert.ok(holiday < plain * 0.2, `${holiday} vs ${plain}`);
  });
});
