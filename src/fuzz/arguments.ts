/** The fuzz command line (npm run fuzz -- ...). */
import { FUZZ_DEVICES } from "./device-fuzz.js";

/** Device operations per device by default. */
export const DEFAULT_DEVICE_OPS = 10_000_000;
/** Kernel-surface operations by default (a few minutes on two cores together with the devices). */
export const DEFAULT_KERNEL_OPS = 10_000;

/** What the command line asks for. */
export interface FuzzArguments {
  help: boolean;
  seed: number;
  /** Operations per device. */
  ops: number;
  kernelOps: number;
  devices: string[];
  kernel: boolean;
  json: boolean;
  allowDriverBugs: boolean;
  specialPool: boolean;
  lowResources: boolean;
}

/** Usage text. */
export const FUZZ_USAGE = `usage: npm run fuzz -- [options]
  --seed N              seed of the operation streams (default 1)
  --ops N               operations per device (default ${DEFAULT_DEVICE_OPS})
  --device edu|nvme|all devices to fuzz (default all; with --kernel alone, none)
  --kernel              fuzz the kernel's user-mode surface (default: on unless --device is given)
  --kernel-ops N        kernel-surface operations (default ${DEFAULT_KERNEL_OPS})
  --special-pool        kernel run: Driver Verifier's special pool for every driver
  --low-resources       kernel run: Driver Verifier's Low Resources Simulation
  --allow-driver-bugs   bug checks blamed on a sample driver do not fail the run
  --json                print a machine-readable report`;

function count(flag: string, text: string | undefined): number | string {
  if (text === undefined) return `${flag} needs a value`;
  const n = Number(text.replace(/_/g, ""));
  if (!Number.isSafeInteger(n) || n < 0) return `${flag} takes a non-negative integer, not "${text}"`;
  return n;
}

/** Parses `argv` (without node and the script); an error message for a bad command line. */
export function parseFuzzArguments(argv: string[]): FuzzArguments | { error: string } {
  const a: FuzzArguments = {
    help: false, seed: 1, ops: DEFAULT_DEVICE_OPS, kernelOps: DEFAULT_KERNEL_OPS, devices: [], kernel: false, json: false,
    allowDriverBugs: false, specialPool: false, lowResources: false,
  };
  let deviceGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--seed" || flag === "--ops" || flag === "--kernel-ops") {
      const n = count(flag, argv[++i]);
      if (typeof n === "string") return { error: n };
      if (flag === "--seed") a.seed = n;
      else if (flag === "--ops") a.ops = n;
      else a.kernelOps = n;
    } else if (flag === "--device") {
      const d = argv[++i];
      if (d === "all") a.devices = [...FUZZ_DEVICES];
      else if ((FUZZ_DEVICES as readonly string[]).includes(d)) { if (!a.devices.includes(d)) a.devices.push(d); }
      else return { error: `--device takes ${FUZZ_DEVICES.join(", ")} or all, not "${d ?? ""}"` };
      deviceGiven = true;
    } else if (flag === "--kernel") a.kernel = true;
    else if (flag === "--json") a.json = true;
    else if (flag === "--allow-driver-bugs") a.allowDriverBugs = true;
    else if (flag === "--special-pool") a.specialPool = true;
    else if (flag === "--low-resources") a.lowResources = true;
    else if (flag === "--help" || flag === "-h") a.help = true;
    else return { error: `unknown option "${flag}"` };
  }
  if (!deviceGiven && !a.kernel) { a.devices = [...FUZZ_DEVICES]; a.kernel = true; }
  return a;
}
