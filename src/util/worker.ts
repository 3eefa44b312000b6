import { Worker } from 'node:worker_threads';

/**
 * Start a worker thread running the module at `url` (an `import.meta.url`). Under tsx (a .ts source file)
 * the worker registers tsx before importing it; the built .js file is started directly.
 */
export function spawnModuleWorker(url: string, workerData: unknown): Worker {
  if (!url.endsWith('.ts')) return new Worker(new URL(url), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
