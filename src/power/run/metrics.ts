import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { UserError } from '../../util/errors.js';
import type { Advice } from '../advise.js';
import type { NodeOutcome } from './apply.js';
import type { DiffCounts } from './job-events.js';

/**
 * The controller's Prometheus metrics (prom-client), served at `GET /metrics` on
 * Power.Run.MetricsHost:MetricsPort (127.0.0.1:7031 by default): a long-running daemon is scraped like any
 * exporter (a textfile collector suits cron jobs, not a process that lives). Names start `pcm_power_`.
 */
function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

const KINDS = ['busy', 'idle', 'off', 'booting', 'shutting', 'unavailable'] as const;

export class RunMetrics {
  readonly registry = new Registry();
  private lastGoodForecast: number | null = null;
  private readonly started = Date.now() / 1000;
  readonly nodes = gauge(this.registry, 'pcm_power_nodes', 'Nodes by power state at the last read.', [
    'state',
  ]);
  readonly decisions = counter(
    this.registry,
    'pcm_power_decisions_total',
    'Decisions taken, by the policy that took them.',
    ['policy'],
  );
  readonly actions = counter(
    this.registry,
    'pcm_power_actions_total',
    'Node actions by action and outcome (done, refused at apply, failed).',
    ['action', 'outcome'],
  );
  readonly refused = gauge(
    this.registry,
    'pcm_power_refused_nodes',
    'Nodes left alone at the last decision, by reason.',
    ['reason'],
  );
  readonly fallbacks = counter(
    this.registry,
    'pcm_power_fallbacks_total',
    'Intervals decided by the reactive rule because no forecast was usable.',
  );
  readonly fallback = gauge(
    this.registry,
    'pcm_power_fallback',
    '1 when the last decision fell back to the reactive rule.',
  );
  readonly intervals = counter(
    this.registry,
    'pcm_power_intervals_total',
    'Intervals by outcome (ok, error).',
    ['outcome'],
  );
  readonly duration = gauge(
    this.registry,
    'pcm_power_interval_seconds',
    'Duration of the last interval (read, plan, apply, save).',
  );
  readonly events = counter(
    this.registry,
    'pcm_power_job_events_total',
    'Job changes seen between two queue reads (submitted, started, ended, seen_only_ended, vanished).',
    ['kind'],
  );
  readonly rateUsed = gauge(
    this.registry,
    'pcm_power_rate_used_nodes',
    'Nodes powered down / up in the last 60 s (the rate ledger).',
    ['action'],
  );

  constructor() {
    const self = this;
    new Gauge({
      name: 'pcm_power_forecast_age_seconds',
      help: 'Seconds since the last usable forecast (since the controller started when there was none).',
      registers: [this.registry],
      collect() {
        this.set(Date.now() / 1000 - (self.lastGoodForecast ?? self.started));
      },
    });
  }

  forecastOk(now: number): void {
    this.lastGoodForecast = now;
  }

  record(
    adv: Advice,
    fellBack: boolean,
    outcomes: NodeOutcome[],
    counts: DiffCounts | null,
    used: { power_down: number; power_up: number },
  ): void {
    const v = adv.view;
    for (const k of KINDS) this.nodes.set({ state: k }, v[k]);
    this.decisions.inc({ policy: adv.policy });
    this.fallback.set(fellBack ? 1 : 0);
    if (fellBack) this.fallbacks.inc();
    for (const o of outcomes) this.actions.inc({ action: o.state, outcome: o.outcome });
    this.refused.reset();
    for (const nd of adv.nodes)
      if (!nd.action && nd.why && nd.kind !== 'busy') this.refused.inc({ reason: nd.why });
    if (counts) {
      this.events.inc({ kind: 'submitted' }, counts.submitted);
      this.events.inc({ kind: 'started' }, counts.started);
      this.events.inc({ kind: 'ended' }, counts.ended);
      this.events.inc({ kind: 'seen_only_ended' }, counts.seenOnlyEnded);
      this.events.inc({ kind: 'vanished' }, counts.vanished);
    }
    this.rateUsed.set({ action: 'power_down' }, used.power_down);
    this.rateUsed.set({ action: 'power_up' }, used.power_up);
  }

  /** Serve /metrics; resolves once listening (a taken port is a one-line UserError). */
  listen(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new UserError(
            `Power.Run.MetricsPort ${host}:${port}: cannot listen (${e.code ?? e.message}); set another port, or 0 for none`,
          ),
        ),
      );
      server.listen(port, host, () => resolve(server));
    });
  }
}
