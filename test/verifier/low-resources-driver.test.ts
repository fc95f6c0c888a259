// A driver under Low Resources Simulation: the disk class driver allocates an IRP of its own
// for each SCSI command it sends synchronously (ClassSendSrbSynchronous); when IoAllocateIrp
// returns NULL the request completes with STATUS_INSUFFICIENT_RESOURCES, as classpnp does,
// and the machine keeps running.
import { describe, expect, it } from "vitest";
import { Machine, boot, KeDelayExecutionThread, KPROCESSOR_MODE, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS } from "../../src/index.js";
import { IOCTL_DISK_IS_WRITABLE } from "../../src/drivers/storage/ntdddisk.js";
import { lowResourcesOf } from "../../src/verifier/low-resources.js";
import { defaultDescription, kernelOf, relativeMs } from "../support/kernel-harness.js";
import { scsiTarget, scsiTargetBootOptions, diskIoctl, type DiskMachine } from "../support/scsi-target.js";

/** Boots the default machine with the SCSI target fixture and its disk, IRP allocations of "disk" failing after `delaySeconds`. */
async function bootDiskUnderLowResources(delaySeconds: number): Promise<DiskMachine> {
  const d = defaultDescription();
  // Every IRP, MDL, mapping... the disk driver asks for fails; its pool (no tag named matches) does not.
  d.kernel = { ...d.kernel, lowResources: { probability: 1, delaySeconds, drivers: ["disk"], poolTags: ["none"] } as unknown as boolean };
  const o = scsiTargetBootOptions({});
  const machine = await boot(Machine.fromDescription(d), { packages: o.packages, rootDevices: o.rootDevices });
  return { machine, k: kernelOf(machine), target: scsiTarget(machine), config: o.config };
}

describe("a sample driver under low resources", () => {
  it("disk: IOCTL_DISK_IS_WRITABLE completes with STATUS_INSUFFICIENT_RESOURCES when its IRP cannot be allocated, and nothing crashes", async () => {
    const dm = await bootDiskUnderLowResources(0.5);
    // Before the delay the disk started and answers.
    expect((await diskIoctl(dm, IOCTL_DISK_IS_WRITABLE, null, 0)).status).toBe(STATUS_SUCCESS);
    await dm.machine.exec(() => KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, relativeMs(600)));
    for (let i = 0; i < 3; i++) {
      expect((await diskIoctl(dm, IOCTL_DISK_IS_WRITABLE, null, 0)).status).toBe(STATUS_INSUFFICIENT_RESOURCES);
    }
    expect(dm.k.crashed).toBeUndefined();
    const sim = lowResourcesOf(dm.k)!;
    expect(sim.injectedByRoutine.get("IoAllocateIrp")).toBe(3);
    expect(sim.injected.get("disk")).toBe(3);
  });
});
