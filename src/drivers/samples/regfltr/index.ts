/**
 * The registry filter sample (general/registry/regfltr), ported line for line: the
 * RegFltr driver (sys/: registry callbacks that block, bypass and override operations,
 * call and object contexts, callbacks at several altitudes, capture, the version 1.1
 * changes and transactions) and the regctrl console program (exe/) that loads it, runs
 * the kernel-mode samples and its own user-mode samples, and unloads it.
 */
export * from "./common.js";
export { DriverEntry } from "./sys/driver.js";
export { BugCheckSample } from "./sys/version.js";
export { wmain, GetKernelModeSampleName } from "./exe/regctrl.js";
