// npm run fuzz: device models and the kernel's user-mode surface under seeded random
// operations, with coverage and findings reported. Exit status: 0 clean, 1 findings
// (driver findings only count without --allow-driver-bugs), 2 a bad command line.
import { fuzzDevice, type DeviceFuzzResult, type FuzzDevice } from "../src/fuzz/device-fuzz.js";
import { fuzzKernel, type KernelFuzzResult } from "../src/fuzz/kernel-fuzz.js";
import { formatFinding, type FuzzFinding } from "../src/fuzz/report.js";
import { parseFuzzArguments, FUZZ_USAGE } from "../src/fuzz/arguments.js";

function print(r: DeviceFuzzResult | KernelFuzzResult): void {
  const extra = "simulatedPs" in r ? `, ${(r.simulatedPs / 1e12).toFixed(3)} s simulated` : "";
  console.log(`${r.target}: ${r.ops.toLocaleString("en-US")} operations in ${r.seconds.toFixed(1)} s (${Math.round(r.opsPerSecond).toLocaleString("en-US")} ops/s${extra}), seed ${r.seed}`);
  const entries = Object.entries(r.coverage).filter(([k, v]) => v !== 0 || !k.startsWith("status."));
  const width = Math.max(...entries.map(([k]) => k.length));
  for (let i = 0; i < entries.length; i += 3) {
    console.log("  " + entries.slice(i, i + 3).map(([k, v]) => `${k.padEnd(width)} ${String(v).padStart(12)}`).join("   "));
  }
  if ("uncovered" in r && r.uncovered.length > 0) console.log(`  not reached: ${r.uncovered.join(", ")}`);
  if (r.findings.length === 0) console.log("  no findings");
  for (const f of r.findings) for (const line of formatFinding(f)) console.log(line);
}

/** Whether `f` fails the run. */
function fails(f: FuzzFinding, allowDriverBugs: boolean): boolean {
  if (f.target.startsWith("device:") || f.kind === "host-exception" || f.blame === "nt") return true;
  return !allowDriverBugs;
}

async function main(): Promise<number> {
  const parsed = parseFuzzArguments(process.argv.slice(2));
  if ("error" in parsed) {
    console.error(`wdmsim fuzz: ${parsed.error}\n${FUZZ_USAGE}`);
    return 2;
  }
  if (parsed.help) { console.log(FUZZ_USAGE); return 0; }
  const results: (DeviceFuzzResult | KernelFuzzResult)[] = [];
  for (const device of parsed.devices as FuzzDevice[]) {
    if (!parsed.json) process.stdout.write(`device:${device}: running ${parsed.ops.toLocaleString("en-US")} operations...\n`);
    const r = fuzzDevice({ device, seed: parsed.seed, ops: parsed.ops });
    results.push(r);
    if (!parsed.json) print(r);
  }
  if (parsed.kernel) {
    if (!parsed.json) process.stdout.write(`kernel: running ${parsed.kernelOps.toLocaleString("en-US")} operations...\n`);
    const r = await fuzzKernel({ seed: parsed.seed, ops: parsed.kernelOps, specialPool: parsed.specialPool, lowResources: parsed.lowResources });
    results.push(r);
    if (!parsed.json) print(r);
  }
  const failed = results.some((r) => r.findings.some((f) => fails(f, parsed.allowDriverBugs)));
  if (parsed.json) console.log(JSON.stringify({ seed: parsed.seed, failed, results }, null, 2));
  else console.log(failed ? "fuzz: FAILED (findings above)" : "fuzz: passed");
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`wdmsim fuzz: host exception: ${(e as Error)?.stack ?? e}`);
  process.exit(1);
});
