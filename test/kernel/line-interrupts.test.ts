// Line-based interrupts: a device whose driver does not handle message-signalled interrupts
// (its package says MSISupported = 0) is given its INTx line, routed by the firmware to an
// I/O APIC input. IoConnectInterruptEx's CONNECT_MESSAGE_BASED falls back to the line
// (Version becomes CONNECT_LINE_BASED); line interrupts are level-sensitive and shared,
// each ISR in the chain is called until one returns TRUE, and a line that stays asserted
// is bug check 0xF2 HARDWARE_INTERRUPT_STORM. Facts: WdmlibIoConnectInterruptEx and
// IO_CONNECT_INTERRUPT_PARAMETERS (WDK), Bug Check 0xF2, shared/specs (PCI Command bit 10,
// I/O APIC redirection entries).
import { MM } from "../../src/mm/manager.js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type KINTERRUPT, type PKSERVICE_ROUTINE,
  CONNECT_FULLY_SPECIFIED, CONNECT_LINE_BASED, CONNECT_MESSAGE_BASED, CmResourceTypeInterrupt, CM_RESOURCE_INTERRUPT_MESSAGE,
  HARDWARE_INTERRUPT_STORM, IoConnectInterrupt, IoConnectInterruptEx, IoDisconnectInterrupt, IoDisconnectInterruptEx, KINTERRUPT_MODE, KE,
  READ_REGISTER_ULONG, WRITE_REGISTER_ULONG, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER_1,
  STATUS_INVALID_PARAMETER_10, STATUS_NOT_FOUND, STATUS_SUCCESS, KeStallExecutionProcessor,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { HAL } from "../../src/hal/hal.js";
import { readConfig } from "../../src/hal/bus.js";
import { eduPackage } from "../../src/drivers/edu/package.js";
import { EDU_DEVICE_EXTENSION } from "../../src/drivers/edu/driver.js";
import * as HW from "../../src/drivers/edu/hw.js";
import { runEduWorkload } from "../../src/workloads/edu.js";
import { boot } from "../../src/pnp/boot.js";
import { bugCheckOf, kernelOf, eduExtension } from "../support/kernel-harness.js";

/** PCI Command register bit 10: Interrupt Disable (INTx). */
const PCI_COMMAND_INTERRUPT_DISABLE = 1 << 10;
/** I/O APIC redirection entry bits. */
const IOREDTBL_MASK = 1 << 16;
const IOREDTBL_LEVEL = 1 << 15;

/** Boots the default machine with the edu driver's package saying it does not support MSI. */
function bootLineBased(): Promise<Machine> {
  return boot("default", { packages: [{ ...eduPackage, msiSupported: false }] });
}

/** The I/O APIC redirection entry (low dword) of input `gsi`, read through the HAL's mapping. */
function redirectionEntry(gsi: number): number {
  const hal = HAL();
  WRITE_REGISTER_ULONG(hal.ioApicVa, 0x10 + 2 * gsi);
  return READ_REGISTER_ULONG(hal.ioApicVa + 0x10);
}

/** Makes the edu device assert its interrupt (status bit 0x1000) by writing the raise register. */
function raiseEduInterrupt(ext: EDU_DEVICE_EXTENSION): void {
  WRITE_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_RAISE, 0x1000);
}

describe("line-based interrupts", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootLineBased();
  });

  it("a device whose driver lacks MSI support gets its INTx line: a level-sensitive descriptor, MSI left disabled, INTx enabled", async () => {
    const ext = eduExtension(machine);
    const pdo = ext.PhysicalDeviceObject;
    const resources = pdo.resources!;
    expect(resources.messages).toHaveLength(0);
    expect(resources.lines).toHaveLength(1);
    const interrupts = resources.translated.List[0].PartialResourceList.PartialDescriptors.filter((d) => d.Type === CmResourceTypeInterrupt);
    expect(interrupts).toHaveLength(1);
    expect(interrupts[0].Flags & CM_RESOURCE_INTERRUPT_MESSAGE).toBe(0);
    const line = resources.lines[0];
    expect(interrupts[0].u.Interrupt).toEqual({ Level: line.vector >> 4, Vector: line.vector, Affinity: 2 ** line.processor });
    // The raw descriptor names the I/O APIC input the firmware routes the function's pin to.
    const raw = resources.raw.List[0].PartialResourceList.PartialDescriptors.find((d) => d.Type === CmResourceTypeInterrupt)!;
    expect(raw.u.Interrupt!.Level).toBe(line.gsi);
    const { bus, device, fn } = pdo.DeviceExtension as { bus: number; device: number; fn: number };
    const { command, entry } = await machine.exec(() => ({ command: readConfig(bus, device, fn, 0x04, 2), entry: redirectionEntry(line.gsi) }));
    expect(command & PCI_COMMAND_INTERRUPT_DISABLE).toBe(0);
    // The HAL unmasked the input when the driver connected: level-triggered, to the line's vector.
    expect(entry & IOREDTBL_MASK).toBe(0);
    expect(entry & IOREDTBL_LEVEL).not.toBe(0);
    expect(entry & 0xFF).toBe(line.vector);
  });

  it("CONNECT_MESSAGE_BASED fell back to FallBackServiceRoutine: Version came back CONNECT_LINE_BASED with a level-sensitive interrupt object", () => {
    const ext = eduExtension(machine);
    expect(ext.InterruptConnection).toBe(CONNECT_LINE_BASED);
    expect(ext.InterruptTable).toBeNull();
    const i = ext.Interrupt as KINTERRUPT;
    expect(i.Mode).toBe(KINTERRUPT_MODE.LevelSensitive);
    expect(i.ShareVector).toBe(true);
    expect(i.MessageServiceRoutine).toBeNull();
    expect(i.ServiceRoutine?.name).toBe("EduInterruptService");
  });

  it("the edu workload completes over the line interrupt, and its ISR runs at the line vector's IRQL", async () => {
    const ext = eduExtension(machine);
    const i = ext.Interrupt as KINTERRUPT;
    const isr = i.ServiceRoutine!;
    const irqls: number[] = [];
    const stats = kernelOf(machine).recorder.stats;
    const unclaimedBefore = stats.unclaimedInterrupts;
    i.ServiceRoutine = function EduInterruptService(interrupt, context) {
      irqls.push(KE().cpu.irql);
      return isr(interrupt, context);
    };
    try {
      const result = await runEduWorkload(machine, { factorials: 4, dmaRoundTrips: 2, livenessChecks: 1, fileRoundTrips: 1 });
      expect(result.ok).toBe(true);
    } finally {
      i.ServiceRoutine = isr;
    }
    expect(irqls.length).toBeGreaterThanOrEqual(6);
    for (const irql of irqls) expect(irql).toBe(i.Vector >> 4);
    // The ISR lowers the line before its EOI, so no delivery goes unclaimed.
    expect(stats.unclaimedInterrupts).toBe(unclaimedBefore);
  });

  it("IoConnectInterruptEx's errors: CONNECT_LINE_BASED on a device with messages, a bad Version, an empty processor mask, no interrupt at all", async () => {
    const msiMachine = await boot("default");
    const msiExt = eduExtension(msiMachine);
    const noop: PKSERVICE_ROUTINE = () => false;
    const statuses = await msiMachine.exec(() => {
      const lineOnMsi = IoConnectInterruptEx({
        Version: CONNECT_LINE_BASED,
        LineBased: { PhysicalDeviceObject: msiExt.PhysicalDeviceObject, InterruptObject: null, ServiceRoutine: noop, ServiceContext: null, SpinLock: null, SynchronizeIrql: 0, FloatingSave: false },
      });
      const badVersion = IoConnectInterruptEx({ Version: 7 });
      const noProcessors = IoConnectInterruptEx({
        Version: CONNECT_FULLY_SPECIFIED,
        FullySpecified: {
          PhysicalDeviceObject: msiExt.PhysicalDeviceObject, InterruptObject: null, ServiceRoutine: noop, ServiceContext: null, SpinLock: null,
          SynchronizeIrql: 9, FloatingSave: false, ShareVector: true, Vector: 0x90, Irql: 9, InterruptMode: KINTERRUPT_MODE.LevelSensitive, ProcessorEnableMask: 0,
        },
      });
      return { lineOnMsi, badVersion, noProcessors };
    });
    expect(statuses).toEqual({ lineOnMsi: STATUS_INVALID_DEVICE_REQUEST, badVersion: STATUS_INVALID_PARAMETER_1, noProcessors: STATUS_INVALID_PARAMETER_10 });

    // A PDO without interrupt resources: message-based without a fallback finds nothing.
    const hostBridge = IO(kernelOf(msiMachine)).devices.find((d) => d.resources && d.resources.messages.length === 0 && d.resources.lines.length === 0);
    expect(hostBridge).toBeDefined();
    const missing = await msiMachine.exec(() => IoConnectInterruptEx({
      Version: CONNECT_MESSAGE_BASED,
      MessageBased: {
        PhysicalDeviceObject: hostBridge!, ConnectionContext: { InterruptMessageTable: null, InterruptObject: null }, MessageServiceRoutine: () => false,
        ServiceContext: null, SpinLock: null, SynchronizeIrql: 0, FloatingSave: false, FallBackServiceRoutine: noop,
      },
    }));
    expect(missing).toBe(STATUS_NOT_FOUND);
  });

  it("on a shared line each ISR is called in connection order until one returns TRUE", async () => {
    const m = await bootLineBased();
    const ext = eduExtension(m);
    const line = ext.PhysicalDeviceObject.resources!.lines[0];
    const calls: string[] = [];
    const result = await m.exec(() => {
      const connect = (routine: PKSERVICE_ROUTINE, share = true) =>
        IoConnectInterrupt(routine, null, null, line.vector, line.irql, line.irql, KINTERRUPT_MODE.LevelSensitive, share, 2 ** line.processor, false);
      // The edu driver lets go of its line: the HAL masks the input.
      IoDisconnectInterruptEx({ Version: CONNECT_LINE_BASED, ConnectionContext: { InterruptMessageTable: null, InterruptObject: ext.Interrupt } });
      const maskedAfterDisconnect = (redirectionEntry(line.gsi) & IOREDTBL_MASK) !== 0;
      const a = connect(function NotMine() {
        calls.push("NotMine");
        return false;
      });
      const b = connect(function Mine() {
        calls.push("Mine");
        const status = READ_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_STATUS);
        if (status === 0) return false;
        WRITE_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_ACK, status);
        // A read flushes the posted acknowledgement: the line is low before the EOI.
        READ_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_STATUS);
        return true;
      });
      const c = connect(function NeverCalled() {
        calls.push("NeverCalled");
        return false;
      });
      // A vector taken by sharers cannot be had exclusively.
      const exclusive = connect(() => false, false);
      raiseEduInterrupt(ext);
      KeStallExecutionProcessor(100);
      for (const o of [a, b, c]) IoDisconnectInterrupt(o.InterruptObject!);
      const maskedAfterLast = (redirectionEntry(line.gsi) & IOREDTBL_MASK) !== 0;
      return { maskedAfterDisconnect, maskedAfterLast, statuses: [a.status, b.status, c.status, exclusive.status] };
    }, { cpu: line.processor });
    expect(result.statuses).toEqual([STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_INVALID_PARAMETER]);
    expect(calls).toEqual(["NotMine", "Mine"]);
    expect(result.maskedAfterDisconnect).toBe(true);
    expect(result.maskedAfterLast).toBe(true);
  });

  it("a line asserted while masked is delivered as soon as the first ISR connects", async () => {
    const m = await bootLineBased();
    const ext = eduExtension(m);
    const line = ext.PhysicalDeviceObject.resources!.lines[0];
    const calls: number[] = [];
    const handled = await m.exec(() => {
      IoDisconnectInterruptEx({ Version: CONNECT_LINE_BASED, ConnectionContext: { InterruptMessageTable: null, InterruptObject: ext.Interrupt } });
      raiseEduInterrupt(ext);
      KeStallExecutionProcessor(100);
      const beforeConnect = calls.length;
      IoConnectInterrupt(function Mine() {
        const status = READ_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_STATUS);
        calls.push(status);
        WRITE_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_ACK, status);
        return status !== 0;
      }, null, null, line.vector, line.irql, line.irql, KINTERRUPT_MODE.LevelSensitive, true, 2 ** line.processor, false);
      KeStallExecutionProcessor(100);
      return beforeConnect;
    }, { cpu: line.processor });
    expect(handled).toBe(0);
    expect(calls[0]).toBe(0x1000);
  });

  it("an ISR that claims the interrupt without quieting the device is an interrupt storm: bug check 0xF2 naming its interrupt object", async () => {
    const m = await bootLineBased();
    const ext = eduExtension(m);
    const line = ext.PhysicalDeviceObject.resources!.lines[0];
    let liar: KINTERRUPT | null = null;
    const check = await bugCheckOf(m.exec(() => {
      IoDisconnectInterruptEx({ Version: CONNECT_LINE_BASED, ConnectionContext: { InterruptMessageTable: null, InterruptObject: ext.Interrupt } });
      const claimsEverything: PKSERVICE_ROUTINE = function ClaimsEverything() {
        return true;
      };
      liar = IoConnectInterrupt(claimsEverything, null, null, line.vector, line.irql, line.irql, KINTERRUPT_MODE.LevelSensitive, true, 2 ** line.processor, false).InterruptObject;
      raiseEduInterrupt(ext);
      KeStallExecutionProcessor(100);
    }, { cpu: line.processor }));
    expect(check.code).toBe(HARDWARE_INTERRUPT_STORM);
    expect(liar).not.toBeNull();
    // Parameter 1: the ISR's address; 3: the storming vector's interrupt object; 4: 1, the ISR is not chained. The ISR is blamed.
    expect(check.parameters[0]).toBe(BigInt(MM(kernelOf(m)).codeAddress(liar!.owner, "ClaimsEverything")));
    expect(check.context.routine).toBe("ClaimsEverything");
    expect(check.parameters[2]).toBe(BigInt(liar!.address));
    expect(liar!.address).not.toBe(0);
    expect(check.parameters[3]).toBe(1n);
  });

  it("a storm on a chained vector reports parameter 4 = 2", async () => {
    const m = await bootLineBased();
    const ext = eduExtension(m);
    const line = ext.PhysicalDeviceObject.resources!.lines[0];
    const check = await bugCheckOf(m.exec(() => {
      IoDisconnectInterruptEx({ Version: CONNECT_LINE_BASED, ConnectionContext: { InterruptMessageTable: null, InterruptObject: ext.Interrupt } });
      for (const routine of [function ClaimsEverything() { return true; }, function NeverAsked() { return false; }]) {
        IoConnectInterrupt(routine, null, null, line.vector, line.irql, line.irql, KINTERRUPT_MODE.LevelSensitive, true, 2 ** line.processor, false);
      }
      raiseEduInterrupt(ext);
      KeStallExecutionProcessor(100);
    }, { cpu: line.processor }));
    expect(check.code).toBe(HARDWARE_INTERRUPT_STORM);
    expect(check.parameters[3]).toBe(2n);
  });
});
