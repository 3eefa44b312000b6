import type { Engine, Ptr } from '../wasm.js';
import { checkDims } from './torch-io.js';

/**
 * The seed model's training loss over pred, target (B, N):
 *   loss = mean(Huber_δ(pred − target)) + λ · mean((pred[:, 1:] − pred[:, :-1])²)
 * (PyTorch `F.huber_loss(pred, target, delta=δ)` + λ·smoothness; δ = 1, λ = 0.1 in the seed).
 * `forward` returns the loss and WRITES its gradient w.r.t. pred into `dpred` (B, N) (and w.r.t. target
 * into `dtarget` when asked). Kernels in src/engine/as/loss.ts.
 */
export interface HuberSmoothConfig {
  horizon: number;
  delta?: number;
  lambda?: number;
}

export interface LossValue {
  loss: number;
  /** The terms before weighting. */
  huber: number;
  smooth: number;
}

export class HuberSmoothLoss {
  readonly N: number;
  readonly delta: number;
  readonly lambda: number;
  dpred: Ptr = 0;
  dtarget: Ptr = 0;
  maxB = 0;

  constructor(cfg: HuberSmoothConfig) {
    this.N = cfg.horizon;
    this.delta = cfg.delta ?? 1;
    this.lambda = cfg.lambda ?? 0.1;
    if (!Number.isInteger(this.N) || this.N < 1) throw new Error(`loss: horizon ${this.N} must be >= 1`);
    if (!(this.delta > 0)) throw new Error(`loss: delta ${this.delta} must be > 0`);
  }

  allocate(e: Engine, maxB: number): void {
    this.maxB = maxB;
    this.dpred = e.alloc(maxB * this.N, false);
    this.dtarget = e.alloc(maxB * this.N, false);
  }

  /** Loss of pred vs target (B, N); gradients into `dpred` (and `dtarget` if opts.dtarget). */
  forward(e: Engine, B: number, pred: Ptr, target: Ptr, opts: { dtarget?: boolean } = {}): LossValue {
    checkDims('loss', { B: [B, this.maxB] });
    const { N } = this;
    const k = e.k;
    const n = B * N;
    const dt = opts.dtarget ? this.dtarget : 0;
    // gradients accumulate in the kernels: start from 0
    k.zero(n, this.dpred);
    if (dt) k.zero(n, dt);
    const huber = k.huber_loss(n, this.delta, pred, target, 1, this.dpred, dt) as number;
    const smooth = N > 1 ? (k.smooth_loss(B, N, pred, this.lambda, this.dpred) as number) : 0;
    return { loss: huber + this.lambda * smooth, huber, smooth };
  }
}

/**
 * Pinball (quantile) loss for Q quantile heads: pred (B, Q, N) (row q = the τ_q forecast), target (B, N);
 * loss = mean over b, q, j of max(τ_q·u, (τ_q − 1)·u) with u = target − pred. The gradient w.r.t. pred
 * is −τ where u > 0 and 1 − τ where u < 0 (1/2 − τ at u = 0), divided by B·Q·N; WRITTEN into `dpred`.
 */
export class PinballLoss {
  readonly N: number;
  readonly taus: number[];
  dpred: Ptr = 0;
  maxB = 0;
  private tauPtr: Ptr = 0;

  constructor(cfg: { horizon: number; quantiles?: number[] }) {
    this.N = cfg.horizon;
    this.taus = cfg.quantiles ?? [0.1, 0.5, 0.9];
    if (!Number.isInteger(this.N) || this.N < 1) throw new Error(`pinball: horizon ${this.N} must be >= 1`);
    for (const t of this.taus)
      if (!(t > 0 && t < 1)) throw new Error(`pinball: quantile ${t} must be in (0, 1)`);
  }

  get Q(): number {
    return this.taus.length;
  }

  allocate(e: Engine, maxB: number): void {
    this.maxB = maxB;
    this.tauPtr = e.allocFrom(this.taus);
    this.dpred = e.alloc(maxB * this.Q * this.N, false);
  }

  forward(e: Engine, B: number, pred: Ptr, target: Ptr): number {
    checkDims('pinball', { B: [B, this.maxB] });
    const { N, Q } = this;
    e.k.zero(B * Q * N, this.dpred);
    return e.k.pinball_loss(B, Q, N, this.tauPtr, pred, target, 1, this.dpred) as number;
  }
}
