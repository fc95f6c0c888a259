/**
 * Driver Verifier's Low Resources Simulation (`verifier /faults`): once the delay after
 * boot has passed, allocations a verified driver makes fail at random with the option's
 * probability — pool (every ExAllocatePool* routine), IoAllocateMdl,
 * MmGetSystemAddressForMdlSafe, MmMapIoSpace and MmAllocateContiguousMemory(SpecifyCache)
 * — so the driver's paths for a failed allocation run. Windows' defaults: probability 6%,
 * every driver and pool tag, 8 minutes' delay. The failures come from a generator seeded
 * by the machine's seed and kept apart from the machine's own, so the same machine and
 * seed fail the same allocations, and a run without the option is unchanged. The count of
 * failures injected is kept per driver.
 */
import type { Kernel } from "../ke/kernel.js";
import { PS_PER_SECOND } from "../ke/time.js";
import { tagValue } from "../mm/pool.js";
import { MM } from "../mm/manager.js";
import { noteFault } from "./faults.js";

/** The option's settings (the machine file's kernel.lowResources). */
export interface LowResourcesOptions {
  /** Chance that one allocation fails, 0 to 1 (Windows' default 0.06). */
  probability: number;
  /** Service names of the drivers whose allocations may fail; null for every driver (not the kernel's own). */
  drivers: string[] | null;
  /** Pool tags whose allocations may fail (four characters); null for every tag. */
  poolTags: string[] | null;
  /** Simulated seconds after power-on before anything fails (Windows' default 480). */
  delaySeconds: number;
}

/** Windows' defaults for the option. */
export const LOW_RESOURCES_DEFAULTS: LowResourcesOptions = { probability: 0.06, drivers: null, poolTags: null, delaySeconds: 480 };

/** Mixed into the machine's seed so the option's generator is its own. */
const SEED_SALT = 0x4C525331;

/** The simulation on one machine. */
export class LowResourcesSimulation {
  /** Allocations failed on purpose, by driver. */
  readonly injected = new Map<string, number>();
  /** Allocations that could have failed (past the delay, by a verified driver), by driver. */
  readonly considered = new Map<string, number>();
  private state: number;
  private readonly tags: Set<number> | null;
  private readonly drivers: Set<string> | null;

  constructor(readonly options: LowResourcesOptions, seed: number) {
    this.state = ((seed ^ SEED_SALT) >>> 0) || SEED_SALT;
    this.drivers = options.drivers ? new Set(options.drivers.map((d) => d.toLowerCase())) : null;
    this.tags = options.poolTags ? new Set(options.poolTags.map((t) => tagValue(t))) : null;
  }

  /** The next value of the generator (xorshift32), 0 to 1. */
  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }

  /** Whether an allocation by `driver` (with pool tag `tag`, or -1 for none) at `nowPs` fails. */
  fails(driver: string, tag: number, nowPs: number): boolean {
    if (driver === "nt" || nowPs < this.options.delaySeconds * PS_PER_SECOND) return false;
    if (this.drivers && !this.drivers.has(driver.toLowerCase())) return false;
    if (this.tags && tag >= 0 && !this.tags.has(tag)) return false;
    this.considered.set(driver, (this.considered.get(driver) ?? 0) + 1);
    if (this.next() >= this.options.probability) return false;
    this.injected.set(driver, (this.injected.get(driver) ?? 0) + 1);
    return true;
  }
}

/** The machine's simulation, or null when the option is off (it needs the verifier on). */
export function lowResourcesOf(k: Kernel): LowResourcesSimulation | null {
  let sim = k.services.get("low-resources") as LowResourcesSimulation | null | undefined;
  if (sim === undefined) {
    const o = k.machine.description.kernel.lowResources;
    sim = o && k.verifier ? new LowResourcesSimulation({ ...LOW_RESOURCES_DEFAULTS, ...(o === true ? {} : o) }, k.machine.description.seed) : null;
    k.services.set("low-resources", sim);
  }
  return sim;
}

/** The pool allocations to fail on purpose, by driver (fault injection's failPool). */
function forcedFailures(k: Kernel): Map<string, number> {
  let m = k.services.get("forced-pool-failures") as Map<string, number> | undefined;
  if (!m) k.services.set("forced-pool-failures", (m = new Map()));
  return m;
}

/** Makes the next `count` pool allocations of `driver` fail (whatever the verifier's options). */
export function failNextPoolAllocations(k: Kernel, driver: string, count: number): void {
  MM(k).pool.injectFailures = true;
  const m = forcedFailures(k);
  m.set(driver, (m.get(driver) ?? 0) + count);
}

/**
 * Whether the allocation the current driver makes now (pool tag `tag`, -1 for an
 * allocation that is not pool) fails on purpose: a pool allocation failPool armed, or one
 * the Low Resources Simulation fails.
 */
export function lowResourceFailure(k: Kernel, tag = -1): boolean {
  if (tag >= 0) {
    const forced = k.services.get("forced-pool-failures") as Map<string, number> | undefined;
    const driver = forced && forced.size > 0 ? k.attribution().driver : "";
    const left = driver ? forced!.get(driver) : undefined;
    if (left) {
      if (left === 1) forced!.delete(driver);
      else forced!.set(driver, left - 1);
      noteFault(k, `fault: pool allocation of ${driver} failed`, driver);
      return true;
    }
  }
  const sim = lowResourcesOf(k);
  return sim !== null && sim.fails(k.attribution().driver, tag, k.cpu.time);
}
