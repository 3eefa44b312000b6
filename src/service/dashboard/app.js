// pcm dashboard: polls /forecast/latest, draws the busy-node history with the forecast band (uPlot),
// the power estimate, the warm-pool advice and the quality / anomaly badges. Survives restarts of the
// service: failed polls back off (1 s .. 15 s) and show a "reconnecting" badge until an answer comes.
/* global uPlot */
(() => {
  const POLL_MS = 3000;
  const MAX_BACKOFF_MS = 15000;
  // a P10–P90 band wider than this share of the cluster at the last horizon comes with a line saying why
  const WIDE_BAND = 0.4;
  const params = new URLSearchParams(location.search);
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const query = new URLSearchParams();
  for (const k of ['cluster', 'partition']) if (params.get(k)) query.set(k, params.get(k));
  const url = `/forecast/latest${query.toString() ? `?${query}` : ''}`;
  const auth = token ? { authorization: `Bearer ${token}` } : {};

  const $ = (id) => document.getElementById(id);
  const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d));
  const hhmm = (t) => new Date(t * 1000).toISOString().slice(11, 16);
  const state = { last: null, failures: 0, timer: null, busy: null, power: null, polls: 0, curves: null };
  window.__pcm = state; // for the end-to-end test and for poking around in the console

  function badge(el, cls, text) {
    el.className = `badge ${cls}`;
    el.textContent = text;
  }

  function setConnection(ok, text) {
    const el = $('badge-conn');
    el.dataset.state = ok ? 'live' : 'reconnecting';
    badge(el, ok ? 'ok' : 'bad', text);
    document.body.classList.toggle('offline', !ok);
  }

  // time axis in UTC, 24 h (the cards and the API are UTC too)
  const xAxis = {
    stroke: '#6b7685',
    grid: { stroke: '#eef1f5' },
    values: (_u, splits) => splits.map((t) => hhmm(t)),
  };

  function chartWidth(el) {
    return Math.max(320, el.clientWidth - 4);
  }

  // x: history minutes then forecast minutes (epoch s); y: observed, p50, p10, p90, capacity
  function busyData(d) {
    const h = d.history;
    const start = Date.parse(h.start) / 1000;
    const xs = [];
    const obs = [];
    for (let i = 0; i < h.busy.length; i++) {
      xs.push(start + i * h.step_s);
      obs.push(h.busy[i]);
    }
    const origin = Date.parse(d.origin) / 1000;
    const p50 = xs.map((x) => (x === origin ? d.busy_now : null));
    const p10 = p50.slice();
    const p90 = p50.slice();
    d.timestamps.forEach((ts, k) => {
      xs.push(Date.parse(ts) / 1000);
      obs.push(null);
      p50.push(d.p50[k]);
      p10.push(d.p10[k]);
      p90.push(d.p90[k]);
    });
    const cap = xs.map(() => d.capacity.nodes);
    return [xs, obs, p50, p10, p90, cap];
  }

  function makeBusyChart(el, data) {
    const opts = {
      width: chartWidth(el),
      height: 320,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.ceil(max * 1.05)] } },
      axes: [xAxis, { stroke: '#6b7685', grid: { stroke: '#eef1f5' }, label: 'nodes', size: 56 }],
      series: [
        { value: (_u, v) => (v ? new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ') : '—') },
        { label: 'observed', stroke: '#2563eb', width: 1.6, spanGaps: false },
        { label: 'P50', stroke: '#ea7a17', width: 2, dash: [6, 4] },
        { label: 'P10', stroke: 'rgba(234,122,23,0.35)', width: 1 },
        { label: 'P90', stroke: 'rgba(234,122,23,0.35)', width: 1 },
        { label: 'capacity', stroke: '#9aa4b2', width: 1, dash: [2, 3] },
      ],
      bands: [{ series: [4, 3], fill: 'rgba(234,122,23,0.16)' }],
      legend: { show: false },
    };
    return new uPlot(opts, data, el);
  }

  function makePowerChart(el, data) {
    return new uPlot(
      {
        width: chartWidth(el),
        height: 220,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.ceil(max * 1.1)] } },
        axes: [xAxis, { stroke: '#6b7685', grid: { stroke: '#eef1f5' }, label: 'kW', size: 56 }],
        series: [
          {},
          {
            label: 'policy',
            stroke: '#15803d',
            width: 2,
            fill: 'rgba(21,128,61,0.08)',
            points: { show: false },
          },
          { label: 'all on', stroke: '#c2410c', width: 1.5, dash: [5, 4], points: { show: false } },
        ],
        legend: { show: false },
      },
      data,
      el,
    );
  }

  function powerData(d) {
    return [d.timestamps.map((t) => Date.parse(t) / 1000), d.power_kw, d.power_kw_all_on];
  }

  const signed = (v) => `${v > 0 ? '+' : ''}${v}`;

  function groupAnomalies(flags) {
    const sorted = [...flags].sort((a, b) =>
      a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.time < b.time ? -1 : 1,
    );
    const out = [];
    for (const a of sorted) {
      const t = Date.parse(a.time) / 1000;
      const last = out[out.length - 1];
      if (last && last.kind === a.kind && t - last.t <= 60) {
        last.t = t;
        last.to = a.time.slice(11, 16);
        last.min = Math.min(last.min, a.value);
        last.max = Math.max(last.max, a.value);
        last.z = Math.max(last.z, Math.abs(a.score));
      } else {
        const hm = a.time.slice(11, 16);
        out.push({ kind: a.kind, t, from: hm, to: hm, min: a.value, max: a.value, z: Math.abs(a.score) });
      }
    }
    return out.sort((a, b) => a.t - b.t);
  }

  function renderQuality(d) {
    const q = d.quality;
    const verdict = q ? q.verdict : 'no_forecast';
    const cls = verdict === 'ok' ? 'ok' : verdict === 'degraded' ? 'warn' : 'bad';
    badge($('badge-quality'), cls, `quality ${verdict.replace('_', ' ')}`);
    const anomalies = d.anomalies
      ? [...d.anomalies.series.flags, ...(d.anomalies.residual?.flags ?? [])]
      : [];
    badge(
      $('badge-anomaly'),
      anomalies.length ? 'warn' : 'ok',
      anomalies.length ? `${anomalies.length} anomalous min` : 'no anomalies',
    );
    const items = [];
    const li = (tag, cls, text) => {
      const e = document.createElement('li');
      const t = document.createElement('span');
      t.className = `tag ${cls}`;
      t.textContent = tag;
      e.append(t, document.createTextNode(text));
      items.push(e);
    };
    if (d.error) li('no forecast', 'bad', d.message);
    if (q) {
      if (!q.reasons.length)
        li(
          'ok',
          'ok',
          `all ${q.lookback_minutes} minutes present, last point ${fmt(q.last_point_age_s)} s old`,
        );
      for (const r of q.reasons) li(verdict === 'no_forecast' ? 'problem' : 'note', cls, r);
      if (q.reasons.length)
        li(
          'rule',
          'ok',
          `gaps up to ${q.rule.maxFillMinutes} min filled; stale after ${q.rule.staleMinutes} min`,
        );
    }
    if (d.model && d.forecast) {
      const fit = d.model.fitted_through
        ? `, fitted through ${d.model.fitted_through.slice(11, 16)} UTC`
        : '';
      li(
        'model',
        'ok',
        `${d.model.ran}${fit}; run ${fmt(d.forecast.run_ms, 1)} ms${d.forecast.refit ? ' incl. refit' : ''}${d.model.banded ? ', calibrated P10–P90' : ', no band yet'}`,
      );
    }
    if (d.anomalies && !anomalies.length)
      li(
        'anomalies',
        'ok',
        `none in the last 30 minutes (checked: ${[...d.anomalies.series.checked, ...(d.anomalies.residual?.checked ?? [])].join(', ').replace(/_/g, ' ')})`,
      );
    // consecutive flagged minutes of one kind are one event: "16:54–16:59 UTC"
    const events = groupAnomalies(anomalies);
    for (const ev of events.slice(-3)) {
      const when = ev.from === ev.to ? ev.from : `${ev.from}–${ev.to}`;
      const vals = ev.min === ev.max ? signed(ev.min) : `${signed(ev.min)} … ${signed(ev.max)}`;
      li(ev.kind.replace(/_/g, ' '), 'warn', `${when} UTC: ${vals} nodes (|z| up to ${fmt(ev.z, 1)})`);
    }
    if (events.length > 3)
      li('', 'warn', `${events.length - 3} earlier anomaly events in the last 30 minutes`);
    $('quality-list').replaceChildren(...items);
  }

  // Why the band is wide: the largest moves of busy nodes over `n` minutes in the history shown (big jobs
  // start and end at once), which is what the band's P10..P90 spread covers.
  function renderBandNote(d) {
    const el = $('band-note');
    const n = d.p50.length;
    const cap = d.capacity.nodes;
    const width = d.p90[n - 1] - d.p10[n - 1];
    if (!(cap > 0) || width < WIDE_BAND * cap) {
      el.hidden = true;
      return;
    }
    const b = d.history.busy;
    let up = 0;
    let down = 0;
    for (let i = 0; i + n < b.length; i++) {
      if (b[i] === null || b[i + n] === null) continue;
      up = Math.max(up, b[i + n] - b[i]);
      down = Math.max(down, b[i] - b[i + n]);
    }
    const hours = fmt((b.length * d.history.step_s) / 3600, 0);
    el.textContent =
      `Wide band: P10–P90 spans ${fmt(width)} nodes (${fmt((100 * width) / cap)} % of the cluster) ${n} minutes ahead. ` +
      `Busy nodes here move in steps as large jobs start and end: in the ${hours} h shown they rose by up to ${fmt(up)} ` +
      `and fell by up to ${fmt(down)} nodes within ${n} minutes. The band is the spread of such changes in the data ` +
      `the model was fitted on (${d.model.ran}), not a fault of the feed.`;
    el.hidden = false;
  }

  // The served model's training curves, fetched once (the model does not change while the service runs).
  async function loadCurves(d) {
    state.curves = 'loading';
    $('model-desc').textContent = `${d.model.kind} model ${d.model.name}`;
    try {
      const res = await fetch('/model/training-curves.svg', { headers: auth, cache: 'no-store' });
      if (res.ok) {
        $('curves').src = URL.createObjectURL(await res.blob());
        $('curves').hidden = false;
        $('curves-none').hidden = true;
        state.curves = 'shown';
      } else {
        const body = await res.json().catch(() => ({}));
        $('curves-none').textContent = body.message ?? `no training curves (HTTP ${res.status})`;
        state.curves = 'none';
      }
    } catch {
      state.curves = null; // try again at the next answer
    }
  }

  function render(d) {
    state.last = d;
    $('series').textContent = `${d.cluster}/${d.partition}`;
    $('busy-now').textContent = fmt(d.busy_now);
    $('capacity').textContent = fmt(d.capacity.nodes);
    $('origin').textContent = `at ${hhmm(Date.parse(d.origin) / 1000)} UTC`;
    const n = d.p50.length;
    $('horizon').textContent = String(n);
    $('p50-end').textContent = fmt(d.p50[n - 1], 1);
    $('band-end').textContent = `${fmt(d.p10[n - 1], 1)} – ${fmt(d.p90[n - 1], 1)}`;
    $('power-now').textContent = fmt(d.power_kw[0], 1);
    $('power-all').textContent = fmt(d.power_kw_all_on[0], 1);
    const save = d.power_kw_all_on[0] > 0 ? 1 - d.power_kw[0] / d.power_kw_all_on[0] : 0;
    $('power-save').textContent = `${fmt(100 * save)} %`;
    $('warm-pool').textContent = fmt(d.warm_pool.nodes);
    $('powered-now').textContent = fmt(d.warm_pool.powered_now);
    $('boot').textContent = fmt(d.warm_pool.boot_minutes);
    $('peak').textContent = fmt(d.warm_pool.peak_p90, 1);
    const m = d.model;
    badge(
      $('badge-model'),
      m.fallback ? 'warn' : 'neutral',
      `${m.ran}${m.fallback ? ' · fallback' : ''}${d.forecast.stale ? ' · stale' : ''}`,
    );
    $('version').textContent = `model ${m.version}`;
    $('updated').textContent =
      `forecast computed ${d.forecast.computed_at.slice(0, 19).replace('T', ' ')} UTC · ${fmt(d.forecast.age_s)} s old`;
    const bd = busyData(d);
    if (state.busy) state.busy.setData(bd);
    else state.busy = makeBusyChart($('chart-busy'), bd);
    const pd = powerData(d);
    if (state.power) state.power.setData(pd);
    else state.power = makePowerChart($('chart-power'), pd);
    renderQuality(d);
    renderBandNote(d);
    if (state.curves === null) loadCurves(d);
  }

  async function poll() {
    state.polls++;
    let ok = false;
    try {
      const res = await fetch(url, { headers: auth, cache: 'no-store' });
      const body = await res.json();
      if (res.ok) {
        render(body);
        ok = true;
      } else if (res.status === 503 || res.status === 404 || res.status === 401) {
        // the service is up but has no forecast (or refuses us): say why, keep polling at the normal pace
        ok = true;
        renderQuality(body);
        badge($('badge-model'), 'bad', body.error);
      }
    } catch {
      ok = false;
    }
    if (ok) {
      state.failures = 0;
      setConnection(true, 'live');
    } else {
      state.failures++;
      setConnection(false, 'reconnecting…');
    }
    const wait = ok ? POLL_MS : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (state.failures - 1));
    state.timer = setTimeout(poll, wait);
  }

  window.addEventListener('resize', () => {
    for (const [c, id] of [
      [state.busy, 'chart-busy'],
      [state.power, 'chart-power'],
    ])
      if (c) c.setSize({ width: chartWidth($(id)), height: c.height });
  });
  poll();
})();
