/**
 * A clean stop for the long-running commands (`pcm collect`, `pcm simulate --live`): the first SIGINT or
 * SIGTERM is announced and aborts `signal` (the command finishes its minute and writes what is pending),
 * a second one exits at once with 130. `dispose` removes the handlers.
 */
export interface StopSignals {
  signal: AbortSignal;
  /** The signal that stopped the command ('' while none has). */
  reason(): string;
  dispose(): void;
}

export function stopOnSignals(announce: (sig: NodeJS.Signals) => void): StopSignals {
  const ac = new AbortController();
  let why = '';
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(130); // second signal: stop now
    why = sig;
    announce(sig);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    reason: () => why,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
