/**
 * The workloads `wdmsim run --workload NAME` can run: what each needs from the machine,
 * the driver packages it boots with, how to run it and how to print what it did.
 */
import type { MachineDescription } from "../machine/firmwareFiles.js";
import type { Machine } from "../machine/machine.js";
import type { BootOptions } from "../pnp/boot.js";
import { EDU_WORKLOAD_DEFAULTS, formatEduResult, runEduWorkload, type EduWorkloadOptions } from "./edu.js";
import { formatToasterResult, runToasterWorkload, TOASTER_BOOT_OPTIONS } from "./toaster.js";
import { runFioWorkload, type FioWorkloadOptions } from "./fio/workload.js";
import { formatIoctlResult, runIoctlWorkload } from "./ioctl.js";
import { formatEventResult, runEventWorkload } from "./event.js";
import { formatCancelResult, runCancelWorkload } from "./cancel.js";
import { formatRegfltrResult, runRegfltrWorkload } from "./regfltr.js";
import { formatRaceResult, RACE_REMOVE_BOOT, runCancelRace, runCounterRace, runRemoveRace, type RaceWorkloadResult } from "./races.js";

/** What a workload did: its result as data, whether it was all correct, and its summary section. */
export interface WorkloadOutcome {
  ok: boolean;
  result: unknown;
  /** Lines of the summary's workload section. */
  lines: string[];
  /** A document that replaces the whole summary when asked for (fio's --output-format=json). */
  document?: string;
}

/** What a run asks of its workload: the edu counts, and for fio its job file and output format. */
export type WorkloadOptions = EduWorkloadOptions & { fio?: FioWorkloadOptions };

/** A workload. */
export interface Workload {
  name: string;
  /** One line for the help text. */
  summary: string;
  /** Title of the summary's workload section. */
  title: string;
  /** The machine file it runs on when --machine is not given ("default" if unset). */
  machine?: string;
  /** What the machine lacks for this workload, or null. */
  check(description: MachineDescription): string | null;
  /** Packages and devices to boot with. */
  boot: BootOptions;
  run(machine: Machine, options: WorkloadOptions): Promise<WorkloadOutcome>;
}

/** Every workload, by name. */
export const WORKLOADS: Record<string, Workload> = {
  edu: {
    name: "edu",
    summary: "a program drives the edu device: identification, liveness, factorials, DMA, ReadFile/WriteFile",
    title: "Workload edu (user-mode program on \\\\.\\Edu0)",
    check: (d) => (d.slots.some((s) => s.spec.model === "edu") ? null : `machine "${d.name}" has no edu device: the edu workload needs one (see firmware/machines/default.json)`),
    boot: {},
    async run(machine, options) {
      const result = await runEduWorkload(machine, options);
      return { ok: result.ok, result, lines: formatEduResult(result) };
    },
  },
  toaster: {
    name: "toaster",
    summary: "the toaster bus, function driver and filters: plug in three, use, stop, surprise-remove, eject, unplug all",
    title: "Workload toaster (the toaster family; device tree after each step)",
    check: () => null,
    boot: TOASTER_BOOT_OPTIONS,
    async run(machine) {
      const result = await runToasterWorkload(machine);
      return { ok: result.ok, result, lines: formatToasterResult(result) };
    },
  },
  fio: {
    name: "fio",
    summary: "fio's load generator on the machine's disks: --job FILE (a fio job file), --output-format normal|json",
    title: "Workload fio (fio job file on \\\\.\\PhysicalDriveN)",
    machine: "storage",
    check: (d) => (d.slots.some((s) => s.spec.model === "nvme")
      ? null
      : `machine "${d.name}" has no disk: the fio workload needs a machine with an NVMe controller (see firmware/machines/storage.json)`),
    boot: {},
    async run(machine, options) {
      if (!options.fio) throw new Error("the fio workload needs a job file");
      const r = await runFioWorkload(machine, options.fio);
      return {
        ok: r.ok,
        result: JSON.parse(r.json),
        lines: r.normal.replace(/\n$/, "").split("\n"),
        document: options.fio.outputFormat === "json" ? r.json : undefined,
      };
    },
  },
  ioctl: {
    name: "ioctl",
    summary: "the WDM IOCTL sample: IOCTLAPP installs SIoctl, sends the four transfer types, removes it (--debug-output: its KdPrint lines)",
    title: "Workload ioctl (IOCTLAPP and the SIoctl legacy driver)",
    machine: "checked",
    check: () => null,
    boot: {},
    async run(machine) {
      const result = await runIoctlWorkload(machine);
      return { ok: result.ok, result, lines: formatIoctlResult(result) };
    },
  },
  event: {
    name: "event",
    summary: "the WDM event sample: EventTest installs event.sys, is notified by event then by pending IRP, removes it (--debug-output: its DebugPrint lines)",
    title: "Workload event (EventTest and the event legacy driver)",
    machine: "checked",
    check: () => null,
    boot: {},
    async run(machine) {
      const result = await runEventWorkload(machine);
      return { ok: result.ok, result, lines: formatEventResult(result) };
    },
  },
  cancel: {
    name: "cancel",
    summary: "the WDM cancel sample: two readers read through a cancel-safe queue and a polling system thread until 'q', then the driver is removed",
    title: "Workload cancel (the cancel sample's test program and its legacy driver)",
    machine: "checked",
    check: () => null,
    boot: {},
    async run(machine) {
      const result = await runCancelWorkload(machine);
      return { ok: result.ok, result, lines: formatCancelResult(result) };
    },
  },
  regfltr: {
    name: "regfltr",
    summary: "the registry filter sample: regctrl loads RegFltr, runs its kernel-mode and user-mode registry callback samples, removes it (--debug-output: the callbacks' lines)",
    title: "Workload regfltr (regctrl and the RegFltr registry filter driver)",
    machine: "checked",
    check: () => null,
    boot: {},
    async run(machine) {
      const result = await runRegfltrWorkload(machine);
      return { ok: result.ok, result, lines: formatRegfltrResult(result) };
    },
  },
  "race-cancel": raceWorkload("race-cancel", "RaceCancel: requests cancelled as its DPC completes them (a cancel race on purpose, for wdmsim explore)", {}, runCancelRace),
  "race-count": raceWorkload("race-count", "RaceCount: requests queued while its polling DPC drains them (a data race on purpose, for wdmsim explore)", {}, runCounterRace),
  "race-remove": raceWorkload("race-remove", "RaceRemove: the device removed while its request's DPC is queued (a remove race on purpose, for wdmsim explore)", RACE_REMOVE_BOOT, runRemoveRace),
};

/** A race workload (src/workloads/races.ts). */
function raceWorkload(name: string, summary: string, boot: BootOptions, run: (machine: Machine) => Promise<RaceWorkloadResult>): Workload {
  return {
    name, summary, boot,
    title: `Workload ${name} (a sample driver with a race in it on purpose)`,
    check: () => null,
    async run(machine) {
      const result = await run(machine);
      return { ok: result.ok, result, lines: formatRaceResult(result) };
    },
  };
}

export { EDU_WORKLOAD_DEFAULTS };
