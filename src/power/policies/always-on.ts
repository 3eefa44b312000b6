import type { ClusterView, PowerActions, PowerPolicy } from '../policy.js';

/** Every node stays powered (today's default at most sites): boots only what is off, never powers down. */
export class AlwaysOn implements PowerPolicy {
  readonly name = 'always_on';
  readonly intervalS = 60;

  decide(view: ClusterView, act: PowerActions): void {
    // nodes start powered; bring back anything that is off
    if (view.off > 0) act.powerUp(view.off);
  }
}
