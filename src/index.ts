/**
 * wdmsim's public API: boot a machine, run kernel code and user-mode programs on it, and
 * the Windows Driver Model routines drivers call, under their WDK names.
 */
export { Machine, type MachineFunction, type NvmeFault, type InterruptFault, type DmaFault, type MediaErrorFault, type HardwareFault, type FaultTrigger, type ProgramOptions, type ProcessOutcome } from "./machine/machine.js";
export { FirmwareError, loadMachine, type MachineDescription } from "./machine/firmwareFiles.js";
export { boot, BUILT_IN_PACKAGES, type BootOptions, type ExecOptions } from "./pnp/boot.js";

export * from "./wdm.js";
export { CM, Registry } from "./cm/registry.js";
export { KD } from "./ke/debug-print.js";
export { activeProcesses } from "./ps/process.js";
export { Recorder } from "./trace/recorder.js";
export { toChromeTrace } from "./trace/chrome.js";
export { toVcd } from "./trace/vcd.js";
export { inspect, parseInspectCommand, INSPECT_COMMANDS, InspectError, type InspectCommand } from "./debug/inspect.js";

/** The storage headers and the Storport miniport surface (also `wdmsim/storage` and `wdmsim/storport`). */
export * as storage from "./drivers/storage/index.js";
export * as storport from "./drivers/storport/index.js";

// Samples: Microsoft's WDM samples ported line for line (src/drivers/samples).
/** The WDM IOCTL sample: the SIOCTL driver, IOCTLAPP and its install routines. */
export * as ioctlSample from "./drivers/samples/ioctl/index.js";
/** The WDM event sample: event.sys and EventTest. */
export * as eventSample from "./drivers/samples/event/index.js";
/** The WDM cancel sample: cancel.sys and its test program. */
export * as cancelSample from "./drivers/samples/cancel/index.js";
/** The registry filter sample: the RegFltr driver and regctrl. */
export * as regfltrSample from "./drivers/samples/regfltr/index.js";
export { runFio, loadFioJobFile, type FioRunResult } from "./workloads/fio/fio.js";
export { formatFioNormal } from "./workloads/fio/report-normal.js";
export { formatFioJson } from "./workloads/fio/report-json.js";

// Schedule exploration (src/verifier): explored schedules and the runner that tries them.
export { SCHEDULE_DEFAULTS, ScheduleExplorer, type ScheduleOptions } from "./verifier/schedule.js";
export { armSchedule, explore, type ExploreOptions, type ExploreReport, type ExploreRun, type ExploreTarget } from "./verifier/explore.js";
