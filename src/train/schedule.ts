/**
 * Learning-rate schedule and early stopping, as plain serialisable state (saved with a `last` checkpoint):
 * linear warm-up from lr/warmup to lr over the first `warmup` epochs, then reduce-on-plateau (×factor
 * after `patience` epochs without a validation improvement, never below `minLr`), and early stopping
 * after `stopPatience` epochs without improvement.
 */
export interface ScheduleConfig {
  lr: number;
  warmup: number;
  patience: number;
  factor: number;
  minLr: number;
  stopPatience: number;
  /** Relative improvement that counts (PyTorch ReduceLROnPlateau threshold, mode rel). */
  threshold?: number;
}

export interface ScheduleState {
  /** Epochs completed. */
  epoch: number;
  /** The plateau phase's lr (after warm-up). */
  plateauLr: number;
  best: number;
  bestEpoch: number;
  /** Epochs since the best, for the plateau rule (reset on each reduction). */
  badEpochs: number;
  /** Epochs since the best, for early stopping. */
  sinceBest: number;
}

export function initialSchedule(cfg: ScheduleConfig): ScheduleState {
  return { epoch: 0, plateauLr: cfg.lr, best: Number.MAX_VALUE, bestEpoch: -1, badEpochs: 0, sinceBest: 0 };
}

/** The lr for epoch `s.epoch` (0-based) about to start. */
export function lrFor(cfg: ScheduleConfig, s: ScheduleState): number {
  if (s.epoch < cfg.warmup) return (cfg.lr * (s.epoch + 1)) / (cfg.warmup + 1);
  return Math.max(cfg.minLr, s.plateauLr);
}

/**
 * Record the validation metric of the epoch just finished. Returns the new state and whether it
 * improved (save the best checkpoint) and whether to stop.
 */
export function afterEpoch(
  cfg: ScheduleConfig,
  s: ScheduleState,
  metric: number,
): { state: ScheduleState; improved: boolean; stop: boolean } {
  const n = { ...s, epoch: s.epoch + 1 };
  const thr = cfg.threshold ?? 1e-4;
  const improved = Number.isFinite(metric) && metric < s.best * (1 - thr * Math.sign(s.best));
  if (improved) {
    n.best = metric;
    n.bestEpoch = s.epoch;
    n.badEpochs = 0;
    n.sinceBest = 0;
  } else {
    n.sinceBest = s.sinceBest + 1;
    // the plateau rule only runs after warm-up
    if (s.epoch >= cfg.warmup) {
      n.badEpochs = s.badEpochs + 1;
      if (n.badEpochs >= cfg.patience) {
        n.plateauLr = Math.max(cfg.minLr, s.plateauLr * cfg.factor);
        n.badEpochs = 0;
      }
    }
  }
  return { state: n, improved, stop: n.sinceBest >= cfg.stopPatience };
}
