// Driver Verifier's Low Resources Simulation ("Low Resources Simulation" in the Driver
// Verifier documentation): past its delay, a verified driver's allocations fail at random
// with the option's probability (Windows' defaults: 6%, every driver and tag, 8 minutes),
// from a generator seeded by the machine's seed — the same seed fails the same allocations.
import { describe, expect, it } from "vitest";
import { Machine, boot, inspect, ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE, MmMapIoSpace, MEMORY_CACHING_TYPE, KeDelayExecutionThread, KPROCESSOR_MODE } from "../../src/index.js";
import { LOW_RESOURCES_DEFAULTS, lowResourcesOf } from "../../src/verifier/low-resources.js";
import { MM } from "../../src/mm/manager.js";
import { asDriver, defaultDescription, kernelOf, relativeMs } from "../support/kernel-harness.js";

async function machine(lowResources: unknown, seed = 1, verifier = true): Promise<Machine> {
  const d = defaultDescription({ verifier, seed });
  d.kernel = { ...d.kernel, lowResources: lowResources as boolean };
  return boot(Machine.fromDescription(d));
}

/** Which of `n` 64-byte allocations by driver `driver` with tag `tag` failed (1) or not (0). */
function pattern(m: Machine, n: number, driver = "lrdrv", tag = "LrTg"): Promise<string> {
  return m.exec(() => asDriver(driver, "Allocate", () => {
    let out = "";
    for (let i = 0; i < n; i++) {
      const p = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, tag);
      out += p === 0 ? "1" : "0";
      if (p !== 0) ExFreePoolWithTag(p, tag);
    }
    return out;
  }));
}

describe("low resources simulation", () => {
  it("Windows' defaults: 6%, every driver and tag, after eight minutes", () => {
    expect(LOW_RESOURCES_DEFAULTS).toEqual({ probability: 0.06, drivers: null, poolTags: null, delaySeconds: 480, systematic: false });
  });

  it("nothing fails before the delay; after it a driver's allocations fail at about the probability, the kernel's never", async () => {
    const m = await machine({ probability: 0.25, delaySeconds: 0.05 });
    const early = await pattern(m, 200);
    expect(early).not.toContain("1");
    // Let simulated time pass the delay.
    await m.exec(() => KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, relativeMs(60)));
    const late = await pattern(m, 2000);
    const failed = [...late].filter((c) => c === "1").length;
    expect(failed).toBeGreaterThan(400);
    expect(failed).toBeLessThan(600);
    const kernel = await m.exec(() => {
      let n = 0;
      for (let i = 0; i < 200; i++) {
        const p = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "Krnl");
        if (p === 0) n++;
        else ExFreePoolWithTag(p, "Krnl");
      }
      return n;
    });
    expect(kernel).toBe(0);
    const sim = lowResourcesOf(kernelOf(m))!;
    expect(sim.injected.get("lrdrv")).toBe(failed);
    expect(sim.considered.get("lrdrv")).toBe(2000);
  });

  it("the same seed fails the same allocations; another seed others", async () => {
    const run = async (seed: number) => {
      const m = await machine({ probability: 0.1, delaySeconds: 0 }, seed);
      return pattern(m, 300);
    };
    const a = await run(5);
    expect(await run(5)).toBe(a);
    expect(await run(6)).not.toBe(a);
  });

  it("only the drivers and pool tags named; MmMapIoSpace fails too; nothing without the verifier", async () => {
    const m = await machine({ probability: 1, delaySeconds: 0, drivers: ["victim"], poolTags: ["Vict"] });
    expect(await pattern(m, 20, "victim", "Vict")).toBe("1".repeat(20));
    expect(await pattern(m, 20, "victim", "Othr")).toBe("0".repeat(20));
    expect(await pattern(m, 20, "bystander", "Vict")).toBe("0".repeat(20));
    const mapped = await m.exec(() => asDriver("victim", "Map", () => MmMapIoSpace(0xFEE00000, 4096, MEMORY_CACHING_TYPE.MmNonCached)));
    expect(mapped).toBe(0);
    const off = await machine({ probability: 1, delaySeconds: 0 }, 1, false);
    expect(await pattern(off, 20)).toBe("0".repeat(20));
  });
});

describe("!verifier", () => {
  it("shows the options on as verifier flags and the allocations failed on purpose, per driver", async () => {
    const d = defaultDescription({ seed: 3 });
    d.kernel = { ...d.kernel, lowResources: { probability: 0.5, delaySeconds: 0, drivers: ["lrdrv"] } as unknown as boolean, specialPool: "verifyEnd" };
    const m = await boot(Machine.fromDescription(d));
    const failed = [...await pattern(m, 100)].filter((c) => c === "1").length;
    const out = inspect(m, "!verifier");
    expect(out).toMatch(/^Verify Flags Level 0x0002089f$/m);
    expect(out).toMatch(/^ {4}\[X\] \(0x00000001\) Special pool$/m);
    expect(out).toMatch(/^ {4}\[X\] \(0x00000002\) Force IRQL checking$/m);
    expect(out).toMatch(/^ {4}\[X\] \(0x00000004\) Randomized low resources simulation$/m);
    expect(out).toMatch(new RegExp(`^  Resource Allocations Failed Deliberately +0x${failed.toString(16).padStart(8, "0")}$`, "m"));
    expect(out).toMatch(new RegExp(`^  lrdrv +allocations +100 +failed deliberately +${failed}$`, "m"));
    // Special pool served every allocation that did not fail (lrdrv's, and the boot drivers' small ones).
    const special = Number(/^ {2}Pool Allocations Succeeded SpecialPool +(0x[0-9a-f]{8})$/m.exec(out)![1]);
    expect(special).toBeGreaterThanOrEqual(100 - failed);
    expect(special).toBe(MM(kernelOf(m)).pool.specialAllocations);
    const off = await boot(Machine.fromDescription(defaultDescription({ verifier: false })));
    expect(inspect(off, "!verifier")).toContain("Driver Verifier is off");
  });
});
