/**
 * The regfltr workload: the registry filter sample's console program (regctrl,
 * src/drivers/samples/regfltr/exe/regctrl.ts) as a user runs it. It installs and starts
 * the RegFltr legacy driver through the Service Control Manager, has the driver run its
 * kernel-mode samples (registry callbacks that block, bypass and override operations,
 * contexts, callbacks at three altitudes, transactions) and prints each result, runs its
 * user-mode samples, then stops and removes the driver. As the program suggests, the
 * kernel debugger's Kd_IHVDRIVER_Mask is set to 0x8 first, so `--debug-output` shows what
 * each callback did.
 */
import { CM } from "../cm/registry.js";
import { serviceKeyPath } from "../cm/service-key.js";
import { ConsoleOutput } from "../drivers/samples/common/crt.js";
import { DRIVER_NAME, ROOT_KEY_ABS_PATH } from "../drivers/samples/regfltr/common.js";
import { wmain } from "../drivers/samples/regfltr/exe/regctrl.js";
import { IO } from "../io/manager.js";
import { DPFLTR_IHVDRIVER_ID, KD } from "../ke/debug-print.js";
import type { Machine } from "../machine/machine.js";
import type { BootedKernel } from "../pnp/boot.js";

/** Kd_IHVDRIVER_Mask as the program tells the user to set it (DPFLTR_INFO_LEVEL's bit). */
const IHVDRIVER_MASK = 0x8;

/** What the workload did. */
export interface RegfltrWorkloadResult {
  /** The lines regctrl printed. */
  output: string[];
  /** Kernel-mode samples the program reported "Succeeded" (of 11). */
  kernelSamplesSucceeded: number;
  /** User-mode samples that printed their success line (of 5). */
  userSamplesSucceeded: number;
  /** The RegFltr service is gone, its driver unloaded and the test keys deleted. */
  removed: boolean;
  /** Every sample succeeded and the driver was removed. */
  ok: boolean;
}

/** Runs regctrl once on `machine`. */
export async function runRegfltrWorkload(machine: Machine): Promise<RegfltrWorkloadResult> {
  const k = (machine.kernel as BootedKernel).k;
  KD(k).componentMasks.set(DPFLTR_IHVDRIVER_ID, IHVDRIVER_MASK);
  const stdout = new ConsoleOutput();
  await machine.runProgram("regctrl", () => wmain(["regctrl"], stdout));
  const output = stdout.lines();
  const kernelSamplesSucceeded = output.filter((l) => l.startsWith("\t") && l.endsWith(": Succeeded")).length;
  const userSamplesSucceeded = output.filter((l) => / Sample succeeded\.$/.test(l)).length;
  const removed = CM(k).find(serviceKeyPath(DRIVER_NAME)) === undefined && !IO(k).drivers.has(DRIVER_NAME) && CM(k).find(ROOT_KEY_ABS_PATH) === undefined;
  return { output, kernelSamplesSucceeded, userSamplesSucceeded, removed, ok: removed && kernelSamplesSucceeded === 11 && userSamplesSucceeded === 5 };
}

/** The summary's lines: the program's output, then the outcome. */
export function formatRegfltrResult(r: RegfltrWorkloadResult): string[] {
  return [
    ...r.output.map((l) => `  ${l}`),
    "",
    `  kernel-mode samples        ${r.kernelSamplesSucceeded}/11 succeeded`,
    `  user-mode samples          ${r.userSamplesSucceeded}/5 succeeded`,
    `  driver removed             ${r.removed ? "yes" : "no"}`,
    `  result                     ${r.ok ? "OK" : "FAILED"}`,
  ];
}
