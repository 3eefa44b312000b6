import { z } from 'zod';
import { PowerSchema } from '../power/config.js';
import { ServiceSchema } from '../service/config.js';
import { SimulatorSchema } from '../sim/config.js';
import { ModelSchema, TrainSchema } from '../train/config.js';

/**
 * The project's YAML config. Keeps the seed's sections `Predictor` and `InfluxDB` with their keys
 * (URL, CheckpointFile, ScalersFile, ForecastMinutes, LookbackMinutes; URL, Token, Org, Bucket) and
 * adds ours. Every section has defaults, so an empty file is a valid config.
 * Secrets can come from the environment instead of the file (see `applyEnv` in load.ts).
 */

const positiveInt = z.number().int().positive();

/**
 * The service's port when Predictor.URL names none (the one place it is set; the demo's `--port` default
 * too). Not 5000 (macOS AirPlay, Flask) nor 8080/8000/8888/3000 (proxies, dev servers, Jupyter, Grafana),
 * 8086/8181 (InfluxDB), 9090/9100+ (Prometheus and its exporters) or 6817-6820 (Slurm): free on a desktop
 * and next to the services an HPC admin runs; 30 as in the 30-minute forecast.
 */
export const DEFAULT_SERVICE_PORT = 7030;

const PredictorSchema = z
  .strictObject({
    /** Where the service listens, e.g. http://0.0.0.0:7030 (no port: DEFAULT_SERVICE_PORT). */
    URL: z.url().default(`http://127.0.0.1:${DEFAULT_SERVICE_PORT}`),
    /** The trained model: a directory written by `pcm train` (the seed's checkpoint file). */
    CheckpointFile: z.string().min(1).default('model'),
    /** Kept for seed compatibility; our scalers are saved inside the model directory. */
    ScalersFile: z.string().optional(),
    ForecastMinutes: positiveInt.max(240).default(30),
    LookbackMinutes: positiveInt.max(10080).default(240),
  })
  .prefault({});

const InfluxSchema = z
  .strictObject({
    /** InfluxDB base URL; empty = no InfluxDB, the service uses the embedded store. */
    URL: z.string().default(''),
    /** 2.x/3.x token: `Authorization: Token ...`, or the v1 password with Username; env PCM_INFLUX_TOKEN. */
    Token: z.string().optional(),
    /** The seed's key: accepted and unused (the v1 API takes no organisation); a warning says so. */
    Org: z.string().optional(),
    /** 2.x/3.x bucket; mapped to the v1 database (and retention policy, `bucket/rp`). */
    Bucket: z.string().optional(),
    /** 1.x database name (defaults to Bucket, then `telemetry`). */
    Database: z.string().optional(),
    RetentionPolicy: z.string().optional(),
    /** 1.x user/password auth; env PCM_INFLUX_USERNAME / PCM_INFLUX_PASSWORD. */
    Username: z.string().optional(),
    Password: z.string().optional(),
    TimeoutMs: positiveInt.max(600_000).default(5000),
  })
  .prefault({});

const ClusterSchema = z
  .strictObject({
    Name: z.string().min(1).default('cluster'),
    /** Total nodes (capacity). */
    Nodes: positiveInt.max(10_000_000).default(120),
    /** CPUs per node (for cpu_util and SWF processors -> nodes). */
    CpusPerNode: positiveInt.max(100_000).default(1),
    /** IANA time zone of the site, for calendar features. */
    TimeZone: z.string().default('UTC'),
    /** Country (and optional region, `DE` or `DE-BY`) for public holidays; empty = none. */
    HolidayCountry: z.string().default(''),
  })
  .prefault({});

const SlurmDbSchema = z
  .strictObject({
    /** mysql://user@host:3306/slurm_acct_db ; password from env PCM_SLURMDB_PASSWORD (or in the URL). */
    URL: z.string().default(''),
    /** Slurm ClusterName: rows are read from `<cluster>_job_table`. */
    Cluster: z
      .string()
      .regex(/^[A-Za-z0-9_]+$/, 'expected letters, digits or _')
      .default('cluster'),
    Password: z.string().optional(),
    BatchRows: positiveInt.max(1_000_000).default(2_000),
    /** A query with no answer for this long fails (a stopped server or a half-open connection). */
    QueryTimeoutSeconds: z.number().positive().max(86_400).default(300),
    /** TLS to the DB: CAFile (PEM) to trust, Verify the server certificate (default true). Absent: no TLS. */
    TLS: z
      .strictObject({ CAFile: z.string().min(1).optional(), Verify: z.boolean().default(true) })
      .optional(),
  })
  .prefault({});

export const ConfigSchema = z.strictObject({
  Predictor: PredictorSchema,
  InfluxDB: InfluxSchema,
  Cluster: ClusterSchema,
  SlurmDB: SlurmDbSchema,
  Simulator: SimulatorSchema,
  Service: ServiceSchema,
  Power: PowerSchema,
  Model: ModelSchema,
  Train: TrainSchema,
});

export type Config = z.infer<typeof ConfigSchema>;
