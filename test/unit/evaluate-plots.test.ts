import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTick, lineChart, niceTicks } from '../../src/evaluate/plots.js';

describe('plots', () => {
  it('picks round ticks that cover the range', () => {
    assert.deepEqual(niceTicks(0, 23.98, 6), [0, 5, 10, 15, 20, 25]);
    assert.deepEqual(niceTicks(1, 30, 8), [0, 5, 10, 15, 20, 25, 30]);
    assert.deepEqual(niceTicks(0.02, 0.13, 5), [0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15]);
    assert.deepEqual(niceTicks(5, 5, 4), [4.5, 4.75, 5, 5.25, 5.5]);
    assert.equal(formatTick(0.30000000000000004), '0.3');
    assert.equal(formatTick(1e-5), '1e-5');
  });

  it('draws an SVG line chart with title, axis labels, legend and NaN gaps', () => {
    const svg = lineChart({
      title: 'loss & <val>',
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        { name: 'train', x: [1, 2, 3, 4, 5], y: [1, 0.5, Number.NaN, 0.3, 0.2] },
        { name: 'val', x: [1, 2, 3, 4, 5], y: [1.2, 0.7, 0.5, 0.4, 0.35], dash: '6 4' },
      ],
      bands: [{ name: 'band', x: [1, 2, 3], lo: [0.5, 0.4, 0.3], hi: [1, 0.9, 0.8] }],
    });
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.ok(svg.includes('loss &amp; &lt;val&gt;'), 'title escaped');
    for (const label of ['>epoch<', '>loss<', '>train<', '>val<', '>band<'])
      assert.ok(svg.includes(label), label);
    // the NaN splits the train line into two sub-paths
    const train = svg.match(/<path d="([^"]+)"[^>]*stroke="#1f77b4"/)![1];
    assert.equal(train.match(/M/g)!.length, 2);
    assert.ok(svg.includes('stroke-dasharray="6 4"'));
    assert.ok(svg.includes('<polygon'));
    // balanced groups
    assert.equal((svg.match(/<g[ >]/g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length);
  });

  it('supports a log y axis (training curves) and a time x axis', () => {
    const log = lineChart({
      title: 'lr',
      logY: true,
      series: [{ name: 'lr', x: [1, 2, 3], y: [1e-3, 1e-4, 0] }],
    });
    for (const t of ['>1e-4<', '>0.001<']) assert.ok(log.includes(t), t);
    const t0 = Date.parse('2024-03-04T00:00:00Z') / 1000; // a Monday
    const x = Array.from({ length: 3 * 24 }, (_, i) => t0 + 3600 * i);
    const time = lineChart({ title: 't', xAxis: 'time', series: [{ name: 'y', x, y: x.map((_, i) => i) }] });
    assert.ok(time.includes('>Mon 03-04<') && time.includes('>Tue 03-05<'));
  });
});
