// MSI-X through the PnP manager and the PCI bus driver: a function with an MSI-X
// capability gets one message per table entry, each with its own vector and target
// processor (spread over the CPUs); the bus driver writes each message's address and data
// into the table in the function's BAR, unmasks the entries and enables MSI-X with the
// function mask clear (shared/specs/pci.md, MSI-X). IoConnectInterruptEx's
// CONNECT_MESSAGE_BASED lists every message in IO_INTERRUPT_MESSAGE_INFO, and an NVMe
// completion on the admin queue (MSI-X vector 0, shared/specs/nvme.md) runs the
// MessageServiceRoutine with MessageID 0 on the processor the message names.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type DEVICE_OBJECT, type DRIVER_OBJECT, type IRP, type IO_INTERRUPT_MESSAGE_INFO, type DriverPackage, type CM_RESOURCE_LIST,
  CONNECT_MESSAGE_BASED, IoConnectInterruptEx, IoCreateDevice, IoAttachDeviceToDeviceStack, IoForwardIrpSynchronously, IoCompleteRequest,
  IoGetCurrentIrpStackLocation, IoSkipCurrentIrpStackLocation, IoCallDriver, IO_NO_INCREMENT, IRP_MJ_PNP, IRP_MN_START_DEVICE,
  FILE_DEVICE_UNKNOWN, DO_DEVICE_INITIALIZING, NT_SUCCESS, STATUS_SUCCESS, CmResourceTypeMemory, CmResourceTypeInterrupt,
  MmMapIoSpace, MmAllocateContiguousMemorySpecifyCache, MmGetPhysicalAddress, MEMORY_CACHING_TYPE, READ_REGISTER_ULONG, WRITE_REGISTER_ULONG,
  writeU32, KeStallExecutionProcessor, KE, readConfig, IoGetDeviceProperty, DEVICE_REGISTRY_PROPERTY, INTERFACE_TYPE,
} from "../../src/index.js";
import { boot } from "../../src/pnp/boot.js";

const NVME_ID = "PCI\\VEN_1234&DEV_4E56";
const MSIX_CAPABILITY = 0xB0;
const MSIX_ENABLE = 0x8000;
const MSIX_FUNCTION_MASK = 0x4000;
const MSI_CAPABILITY = 0x40;
const PCI_COMMAND_INTERRUPT_DISABLE = 1 << 10;
/** NVMe BAR0: MSI-X table at 0x2000, 16 bytes an entry. */
const MSIX_TABLE = 0x2000;

/** What the test driver saw. */
class Probe {
  pdo: DEVICE_OBJECT | null = null;
  registers = 0;
  registersPhysical = 0;
  table: IO_INTERRUPT_MESSAGE_INFO | null = null;
  translated: CM_RESOURCE_LIST | null = null;
  isrs: { message: number; cpu: number; irql: number }[] = [];
}
const probe = new Probe();

/** A minimal function driver for the NVMe controller: on start it maps BAR0 and connects its messages. */
const nvmeProbeDriver = {
  DriverEntry(DriverObject: DRIVER_OBJECT): number {
    DriverObject.DriverExtension.AddDevice = (driver: DRIVER_OBJECT, pdo: DEVICE_OBJECT) => {
      const { status, DeviceObject } = IoCreateDevice(driver, { lower: null as DEVICE_OBJECT | null }, null, FILE_DEVICE_UNKNOWN, 0, false);
      if (!NT_SUCCESS(status) || !DeviceObject) return status;
      (DeviceObject.DeviceExtension as { lower: DEVICE_OBJECT | null }).lower = IoAttachDeviceToDeviceStack(DeviceObject, pdo);
      probe.pdo = pdo;
      DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
      return STATUS_SUCCESS;
    };
    DriverObject.MajorFunction[IRP_MJ_PNP] = async (DeviceObject: DEVICE_OBJECT, Irp: IRP) => {
      const lower = (DeviceObject.DeviceExtension as { lower: DEVICE_OBJECT }).lower;
      const s = IoGetCurrentIrpStackLocation(Irp);
      if (s.MinorFunction !== IRP_MN_START_DEVICE) {
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(lower, Irp);
      }
      await IoForwardIrpSynchronously(lower, Irp);
      const translated = s.Parameters.StartDevice.AllocatedResourcesTranslated as CM_RESOURCE_LIST;
      probe.translated = translated;
      const bar = translated.List[0].PartialResourceList.PartialDescriptors.find((d) => d.Type === CmResourceTypeMemory)!;
      probe.registersPhysical = bar.u.Memory!.Start;
      probe.registers = MmMapIoSpace(bar.u.Memory!.Start, bar.u.Memory!.Length, MEMORY_CACHING_TYPE.MmNonCached);
      const params = {
        Version: CONNECT_MESSAGE_BASED,
        MessageBased: {
          PhysicalDeviceObject: probe.pdo!, ConnectionContext: { InterruptMessageTable: null, InterruptObject: null },
          MessageServiceRoutine: function NvmeProbeIsr(_i: unknown, _c: unknown, MessageID: number) {
            const k = KE();
            probe.isrs.push({ message: MessageID, cpu: k.cpu.Number, irql: k.cpu.irql });
            return true;
          },
          ServiceContext: null, SpinLock: null, SynchronizeIrql: 0, FloatingSave: false, FallBackServiceRoutine: null,
        },
      };
      Irp.IoStatus.Status = IoConnectInterruptEx(params);
      probe.table = params.MessageBased.ConnectionContext.InterruptMessageTable;
      IoCompleteRequest(Irp, IO_NO_INCREMENT);
      return Irp.IoStatus.Status;
    };
    return STATUS_SUCCESS;
  },
};

const nvmeProbePackage: DriverPackage = { service: "nvmeprobe", description: "test driver: NVMe interrupts", ids: [NVME_ID], role: "function", module: nvmeProbeDriver };

describe("MSI-X", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await boot("storage", { packages: [nvmeProbePackage] });
  });

  it("the controller behind the root port at 00:1c.0 is found on bus 1: IoGetDeviceProperty gives bus 1, address 0 (device 0, function 0), PCIBus", async () => {
    const props = await machine.exec(() => [
      DEVICE_REGISTRY_PROPERTY.DevicePropertyBusNumber, DEVICE_REGISTRY_PROPERTY.DevicePropertyAddress, DEVICE_REGISTRY_PROPERTY.DevicePropertyLegacyBusType,
    ].map((p) => IoGetDeviceProperty(probe.pdo!, p)));
    expect(props).toEqual([
      { status: STATUS_SUCCESS, value: 1 },
      { status: STATUS_SUCCESS, value: 0 },
      { status: STATUS_SUCCESS, value: INTERFACE_TYPE.PCIBus },
    ]);
  });

  it("a function with MSI-X gets one message per table entry, each its own vector, spread over the processors", () => {
    const t = probe.table!;
    expect(t.MessageCount).toBe(17);
    expect(t.MessageInfo).toHaveLength(17);
    expect(new Set(t.MessageInfo.map((m) => m.Vector)).size).toBe(17);
    for (const m of t.MessageInfo) expect(m.Irql).toBe(m.Vector >> 4);
    expect(t.UnifiedIrql).toBe(Math.max(...t.MessageInfo.map((m) => m.Irql)));
    const processors = new Set(t.MessageInfo.map((m) => Math.log2(m.TargetProcessorSet)));
    expect(processors.size).toBe(4);
    // The translated resources list one message descriptor per entry.
    const messages = probe.translated!.List[0].PartialResourceList.PartialDescriptors.filter((d) => d.Type === CmResourceTypeInterrupt);
    expect(messages).toHaveLength(17);
  });

  it("the bus driver programmed the table, unmasked the entries, enabled MSI-X with the function mask clear, and left MSI and INTx off", async () => {
    const pdo = probe.pdo!.DeviceExtension as { bus: number; device: number; fn: number };
    const r = await machine.exec(() => {
      const table = MmMapIoSpace(probe.registersPhysical + MSIX_TABLE, 17 * 16, MEMORY_CACHING_TYPE.MmNonCached);
      const entries = Array.from({ length: 17 }, (_, i) => ({
        address: READ_REGISTER_ULONG(table + i * 16) + READ_REGISTER_ULONG(table + i * 16 + 4) * 2 ** 32,
        data: READ_REGISTER_ULONG(table + i * 16 + 8),
        control: READ_REGISTER_ULONG(table + i * 16 + 12),
      }));
      return {
        entries,
        msix: readConfig(pdo.bus, pdo.device, pdo.fn, MSIX_CAPABILITY + 2, 2),
        msi: readConfig(pdo.bus, pdo.device, pdo.fn, MSI_CAPABILITY + 2, 2),
        command: readConfig(pdo.bus, pdo.device, pdo.fn, 0x04, 2),
      };
    });
    r.entries.forEach((e, i) => {
      const m = probe.table!.MessageInfo[i];
      expect(e).toEqual({ address: m.MessageAddress, data: m.MessageData, control: 0 });
    });
    expect(r.msix & MSIX_ENABLE).not.toBe(0);
    expect(r.msix & MSIX_FUNCTION_MASK).toBe(0);
    expect(r.msi & 1).toBe(0);
    expect(r.command & PCI_COMMAND_INTERRUPT_DISABLE).not.toBe(0);
  });

  it("an admin command's completion raises MSI-X vector 0: the ISR runs with MessageID 0 on the processor message 0 names, at its IRQL", async () => {
    const message0 = probe.table!.MessageInfo[0];
    const cpu = Math.log2(message0.TargetProcessorSet);
    const r = await machine.exec(() => {
      const regs = probe.registers;
      // Admin queues of 2 entries: submission (64-byte entries) and completion (16-byte entries).
      const sq = MmAllocateContiguousMemorySpecifyCache(0x1000, 0, 2 ** 32 - 1, 0, MEMORY_CACHING_TYPE.MmCached);
      const cq = MmAllocateContiguousMemorySpecifyCache(0x1000, 0, 2 ** 32 - 1, 0, MEMORY_CACHING_TYPE.MmCached);
      const data = MmAllocateContiguousMemorySpecifyCache(0x1000, 0, 2 ** 32 - 1, 0, MEMORY_CACHING_TYPE.MmCached);
      WRITE_REGISTER_ULONG(regs + 0x24, (1 << 16) | 1); // AQA: ACQS = 1, ASQS = 1 (two entries each)
      WRITE_REGISTER_ULONG(regs + 0x28, MmGetPhysicalAddress(sq));
      WRITE_REGISTER_ULONG(regs + 0x2C, 0);
      WRITE_REGISTER_ULONG(regs + 0x30, MmGetPhysicalAddress(cq));
      WRITE_REGISTER_ULONG(regs + 0x34, 0);
      WRITE_REGISTER_ULONG(regs + 0x14, (6 << 16) | (4 << 20) | 1); // CC: IOSQES 6, IOCQES 4, EN
      while ((READ_REGISTER_ULONG(regs + 0x1C) & 1) === 0) KeStallExecutionProcessor(10); // CSTS.RDY
      // Identify Controller (opcode 0x06, CID 1, CNS 1) into `data`.
      writeU32(sq, 0x06 | (1 << 16));
      writeU32(sq + 24, MmGetPhysicalAddress(data));
      writeU32(sq + 40, 1);
      const before = probe.isrs.length;
      WRITE_REGISTER_ULONG(regs + 0x1000, 1); // SQ 0 tail doorbell
      for (let i = 0; i < 1000 && probe.isrs.length === before; i++) KeStallExecutionProcessor(10);
      return probe.isrs.slice(before);
    }, { cpu });
    expect(r.length).toBeGreaterThan(0);
    expect(r[0]).toEqual({ message: 0, cpu, irql: message0.Irql });
  });
});
