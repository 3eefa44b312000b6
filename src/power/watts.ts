import { UserError } from '../util/errors.js';
import type { PowerConfig } from './config.js';

/**
 * The node power model: what one node draws in each power state and how long state changes take.
 *
 * Defaults (docs/power.md, assumptions to replace with a site's own measurements):
 * - 250 W busy, 125 W idle: Cornell Weill HPC node (Microsoft TechNet, "Is It Time to Turn Off Your
 *   Servers?", 2008); idle at 60-80 % of full load is the usual range (fountnhead blog, 2008).
 * - 10 W off: BMC + PSU standby (assumption, no measured source).
 * - 300 s boot: sites report 3-4 min (help.cropdiversity.ac.uk) up to 12 min (an LSF site).
 * - boot at 250 W: a node booting runs POST and the OS start near full power (assumption).
 * - 30 s shutdown: Slurm's SuspendTimeout default (slurm.schedmd.com/power_save.html).
 */
export interface NodePowerModel {
  offW: number;
  idleW: number;
  busyW: number;
  bootW: number;
  bootS: number;
  shutdownS: number;
}

export const DEFAULT_POWER_MODEL: NodePowerModel = {
  offW: 10,
  idleW: 125,
  busyW: 250,
  bootW: 250,
  bootS: 300,
  shutdownS: 30,
};

/** The model of one cluster: the section's figures, then that cluster's overrides (`Power.Clusters.<name>`). */
export function powerModelFromConfig(cfg: PowerConfig, cluster?: string): NodePowerModel {
  const o = cluster ? (cfg.Clusters?.[cluster] ?? {}) : {};
  const m: NodePowerModel = {
    offW: o.OffWatts ?? cfg.OffWatts,
    idleW: o.IdleWatts ?? cfg.IdleWatts,
    busyW: o.BusyWatts ?? cfg.BusyWatts,
    bootW: o.BootWatts ?? cfg.BootWatts,
    bootS: o.BootSeconds ?? cfg.BootSeconds,
    shutdownS: o.ShutdownSeconds ?? cfg.ShutdownSeconds,
  };
  checkPowerModel(m, cluster ? `Power.Clusters.${cluster}` : 'Power');
  return m;
}

/** Refuse models under which powering off could never pay (idle must draw more than off). */
function checkPowerModel(m: NodePowerModel, where = 'Power'): void {
  if (!(m.idleW > m.offW)) {
    throw new UserError(`${where}: IdleWatts (${m.idleW}) must be above OffWatts (${m.offW})`);
  }
}

/**
 * Break-even idle gap (s): the shortest stretch a node must stay unneeded for a shutdown + off + boot cycle to
 * use no more energy than staying idle. For a gap G: idle costs idleW G; the cycle costs idleW S + offW
 * (G - S - B) + bootW B. Equal at G* = S + (bootW - offW) B / (idleW - offW). With 125/250/10 W, 300 s boot
 * and 30 s shutdown: G* = 30 + 240 * 300 / 115 ~ 656 s.
 * (The rule of thumb, boot energy / idle power, gives 600 s.)
 */
export function breakEvenSeconds(m: NodePowerModel): number {
  // idleW G = idleW S + offW (G - S - B) + bootW B  =>  G (idleW - offW) = (idleW - offW) S + (bootW - offW) B
  return m.shutdownS + ((m.bootW - m.offW) * m.bootS) / (m.idleW - m.offW);
}

/** Joules of node-seconds spent per state (the replay's accounting). */
export interface StateSeconds {
  off: number;
  boot: number;
  idle: number;
  busy: number;
}

/** Energy (J) of node-seconds per state: idle includes shutting down and waiting for a job's other nodes. */
export function energyJ(m: NodePowerModel, s: StateSeconds): number {
  return s.off * m.offW + s.boot * m.bootW + s.idle * m.idleW + s.busy * m.busyW;
}

export const J_PER_KWH = 3.6e6;
