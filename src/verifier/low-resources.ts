/**
 * Driver Verifier's Low Resources Simulation (`verifier /faults`) and Systematic low
 * resources simulation (`verifier /flags 0x40000`): once the delay after boot has passed,
 * allocations a verified driver makes fail on purpose, so the driver's paths for a failed
 * allocation run. The routines that fail are those Microsoft's Low Resources Simulation
 * page lists and this kernel has: pool (every ExAllocatePool* routine), IoAllocateIrp (and
 * the routines that allocate IRPs: IoBuild*Request, IoMakeAssociatedIrp), IoAllocateMdl,
 * IoAllocateWorkItem, IoAllocateErrorLogEntry, MmGetSystemAddressForMdlSafe,
 * MmMapLockedPagesSpecifyCache, MmProbeAndLockPages, MmMapIoSpace(Ex) and
 * MmAllocateContiguousMemory(SpecifyCache); and map registers for DMA (AllocateAdapterChannel,
 * GetScatterGatherList, BuildScatterGatherList) — each with the failure its reference page
 * documents.
 *
 * Random (the default): each allocation fails with the option's probability (Windows'
 * defaults: 6%, every driver and pool tag, 8 minutes' delay), from a generator seeded by
 * the machine's seed and kept apart from the machine's own, so the same machine and seed
 * fail the same allocations, and a run without the option is unchanged. Systematic: each
 * call site (the driver routine and the allocating routine) fails the first time it
 * allocates, then never again. Injected failures are counted per driver and per routine,
 * and the latest are kept in a log.
 */
import type { Attribution, Kernel } from "../ke/kernel.js";
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
  /** Systematic low resources simulation: each call site fails once, the first time it allocates, instead of at random. */
  systematic: boolean;
}

/** One failure injected on purpose (the fault injection log). */
export interface InjectedFault {
  /** When, ps of simulated time (the allocating processor's clock). */
  timePs: number;
  /** Service name of the driver whose allocation failed. */
  driver: string;
  /** The driver's routine that called. */
  caller: string;
  /** The allocating routine (ExAllocatePoolWithTag, IoAllocateIrp...). */
  routine: string;
}

/** Failures the log keeps (the latest). */
export const INJECTED_FAULT_LOG_SIZE = 64;

/** Windows' defaults for the option. */
export const LOW_RESOURCES_DEFAULTS: LowResourcesOptions = { probability: 0.06, drivers: null, poolTags: null, delaySeconds: 480, systematic: false };

/** Mixed into the machine's seed so the option's generator is its own. */
const SEED_SALT = 0x4C525331;

/** The simulation on one machine. */
export class LowResourcesSimulation {
  /** Allocations failed on purpose, by driver. */
  readonly injected = new Map<string, number>();
  /** Allocations that could have failed (past the delay, by a verified driver), by driver. */
  readonly considered = new Map<string, number>();
  /** Allocations failed on purpose, by allocating routine. */
  readonly injectedByRoutine = new Map<string, number>();
  /** The latest failures injected, oldest first (at most INJECTED_FAULT_LOG_SIZE). */
  readonly log: InjectedFault[] = [];
  /** Systematic mode: the call sites ("driver!caller>routine") that have failed once. */
  private readonly failedSites = new Set<string>();
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

  /**
   * Whether an allocation by `who` (a driver's routine) through `routine` (with pool tag
   * `tag`, or -1 for none) at `nowPs` fails; a failure is counted and logged.
   */
  fails(who: Attribution, routine: string, tag: number, nowPs: number): boolean {
    const driver = who.driver;
    if (driver === "nt" || nowPs < this.options.delaySeconds * PS_PER_SECOND) return false;
    if (this.drivers && !this.drivers.has(driver.toLowerCase())) return false;
    if (this.tags && tag >= 0 && !this.tags.has(tag)) return false;
    this.considered.set(driver, (this.considered.get(driver) ?? 0) + 1);
    if (this.options.systematic) {
      const site = `${driver}!${who.routine}>${routine}`;
      if (this.failedSites.has(site)) return false;
      this.failedSites.add(site);
    } else if (this.next() >= this.options.probability) {
      return false;
    }
    this.injected.set(driver, (this.injected.get(driver) ?? 0) + 1);
    this.injectedByRoutine.set(routine, (this.injectedByRoutine.get(routine) ?? 0) + 1);
    if (this.log.length === INJECTED_FAULT_LOG_SIZE) this.log.shift();
    this.log.push({ timePs: nowPs, driver, caller: who.routine, routine });
    return true;
  }
}

/** The machine's simulation, or null when the option is off (it needs the verifier on). */
export function lowResourcesOf(k: Kernel): LowResourcesSimulation | null {
  if (k === lastKernel) return lastSimulation;
  let sim = k.services.get("low-resources") as LowResourcesSimulation | null | undefined;
  if (sim === undefined) {
    const o = k.machine.description.kernel.lowResources;
    sim = o && k.verifier ? new LowResourcesSimulation({ ...LOW_RESOURCES_DEFAULTS, ...(o === true ? {} : o) }, k.machine.description.seed) : null;
    k.services.set("low-resources", sim);
  }
  lastKernel = k;
  lastSimulation = sim;
  return sim;
}

// The last kernel asked about and its simulation (machines rarely change between calls).
let lastKernel: Kernel | undefined;
let lastSimulation: LowResourcesSimulation | null = null;

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
 * Whether the allocation the current driver makes now through `routine` (pool tag `tag`,
 * -1 for an allocation that is not pool) fails on purpose: a pool allocation failPool
 * armed, or one the Low Resources Simulation fails.
 */
export function lowResourceFailure(k: Kernel, tag: number, routine: string): boolean {
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
  return sim !== null && sim.fails(k.attribution(), routine, tag, k.cpu.time);
}
