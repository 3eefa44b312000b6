import { z } from 'zod';

/**
 * Config sections of the neural model (`Model`: sizes) and of `pcm train` (`Train`: optimisation).
 * Defaults are the ones measured to train a year of minute data to a useful model in ~20 minutes on
 * 2 cores (docs/model.md, "Defaults"); the seed's exact architecture is Resolution 1, Hidden 128.
 */
const posInt = z.number().int().positive();

export const ModelSchema = z
  .strictObject({
    /** History minutes the model reads. */
    LookbackMinutes: posInt.max(10080).default(240),
    /** Minutes summarised into one LSTM step (mean + last minute); must divide LookbackMinutes. */
    ResolutionMinutes: posInt.max(1440).default(5),
    /** LSTM hidden size per direction (the seed: 128). */
    Hidden: posInt.max(1024).multipleOf(4).default(64),
    Layers: posInt.max(8).default(2),
    Heads: posInt.max(64).default(4),
    /** Width of the dense head (the seed: 128). */
    HeadHidden: posInt.max(4096).default(64),
    Dropout: z.number().min(0).lt(1).default(0.2),
    /** Repeat the origin minute's features in every LSTM step (the current state reaches every step). */
    NowEveryStep: z.boolean().default(false),
    /** The head also sees the origin step: concat(mean-pooled attention, biLSTM output and inputs at the last step). */
    LastStepSkip: z.boolean().default(true),
    /** Forecast minutes H. */
    Horizon: posInt.max(240).default(30),
  })
  .refine((m) => m.LookbackMinutes % m.ResolutionMinutes === 0, {
    message: 'LookbackMinutes must be a multiple of ResolutionMinutes',
    path: ['ResolutionMinutes'],
  })
  .refine((m) => (2 * m.Hidden) % m.Heads === 0, {
    message: 'Heads must divide 2·Hidden (the attention width)',
    path: ['Heads'],
  })
  .prefault({});

export const TrainSchema = z
  .strictObject({
    Epochs: posInt.max(10_000).default(60),
    /** Samples per optimizer step. */
    BatchSize: posInt.max(8192).default(128),
    /** Training windows drawn (without replacement) per epoch from the strided training origins. */
    SamplesPerEpoch: posInt.default(16_384),
    /** Keep every n-th minute as a training origin. */
    TrainStride: posInt.max(1440).default(1),
    /** Validation origins used per epoch at most (evenly spaced over the validation split). */
    ValidSamples: posInt.default(4096),
    LearningRate: z.number().positive().max(1).default(1e-3),
    WeightDecay: z.number().min(0).max(1).default(0),
    WarmupEpochs: z.number().int().min(0).max(1000).default(5),
    /** Reduce-on-plateau: epochs without improvement before the lr is multiplied by PlateauFactor. */
    PlateauPatience: z.number().int().min(1).max(1000).default(3),
    PlateauFactor: z.number().gt(0).lt(1).default(0.5),
    /** The lr never goes below this. */
    MinLearningRate: z.number().min(0).max(1).default(1e-5),
    /** Stop after this many epochs without a validation improvement. */
    EarlyStopPatience: z.number().int().min(1).max(10_000).default(10),
    /** Global-norm gradient clipping (0 = off). */
    ClipNorm: z.number().min(0).default(1),
    /** Huber δ of the median term in units of the target scale (the RMS of the training H-minute change). */
    HuberDelta: z.number().positive().default(0.5),
    /** Huber δ in nodes instead (overrides HuberDelta). */
    HuberDeltaNodes: z.number().positive().optional(),
    /** Weight of the smoothness term. */
    Smoothness: z.number().min(0).default(0.1),
    /** Weight of the P10/P90 pinball terms. */
    QuantileWeight: z.number().min(0).default(1),
    /** Validation metric for the best checkpoint, the plateau rule and early stopping: the P50 MAE or the loss. */
    SelectBy: z.enum(['mae', 'loss']).default('mae'),
    ValidFraction: z.number().gt(0).lt(1).default(0.1),
    TestFraction: z.number().gt(0).lt(1).default(0.2),
    /** Worker threads for data-parallel steps. */
    Threads: posInt.max(64).default(2),
    /** Stop after this many minutes (0 = no limit); the best checkpoint is kept. */
    MaxMinutes: z.number().min(0).default(0),
    Seed: z.number().int().min(0).default(1),
  })
  .prefault({});

export type ModelSection = z.infer<typeof ModelSchema>;
export type TrainSection = z.infer<typeof TrainSchema>;
