/**
 * Resource assignment: the device's requirements (IRP_MN_QUERY_RESOURCE_REQUIREMENTS, as
 * the stack filtered them), or without any its boot configuration (IRP_MN_QUERY_RESOURCES),
 * become its raw resources, and the PnP manager translates them for the processor:
 * memory as is; a line interrupt gets the vector of its I/O APIC input; each message
 * interrupt gets a vector and a target processor from the HAL, with the message address
 * and data that select them.
 */
import type { Kernel } from "../ke/kernel.js";
import { HAL } from "../hal/hal.js";
import {
  CmResourceTypeInterrupt, CmResourceTypeMemory, CM_RESOURCE_INTERRUPT_MESSAGE, messageCount, resourceList, type AssignedResources,
  type CM_PARTIAL_RESOURCE_DESCRIPTOR, type CM_RESOURCE_LIST, type IO_RESOURCE_REQUIREMENTS_LIST,
} from "../io/resources.js";

/** Local-APIC message address for a processor (x86 convention, shared/specs/pci.md). */
export function messageAddress(apicId: number): number {
  return 0xFEE00000 + apicId * 0x1000;
}

/** The largest power of two not above `n` (an MSI block is a power of two messages). */
function powerOfTwoAtMost(n: number): number {
  return n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
}

/**
 * Raw resources satisfying the first alternative list of `requirements`: each memory range
 * at its lowest address the alignment allows, each line at its lowest input, each message
 * descriptor with MaximumVector - MinimumVector + 1 messages (an MSI block rounded down to a
 * power of two). Returns null when a memory range cannot be placed.
 */
export function rawFromRequirements(requirements: IO_RESOURCE_REQUIREMENTS_LIST): CM_RESOURCE_LIST | null {
  const out: CM_PARTIAL_RESOURCE_DESCRIPTOR[] = [];
  const messages = requirements.List[0]?.Descriptors.filter((d) => d.Type === CmResourceTypeInterrupt && (d.Flags & CM_RESOURCE_INTERRUPT_MESSAGE) !== 0) ?? [];
  for (const d of requirements.List[0]?.Descriptors ?? []) {
    if (d.Type === CmResourceTypeMemory && d.u.Memory) {
      const m = d.u.Memory;
      const start = Math.ceil(m.MinimumAddress / Math.max(1, m.Alignment)) * Math.max(1, m.Alignment);
      if (start + m.Length - 1 > m.MaximumAddress) return null;
      out.push({ Type: d.Type, ShareDisposition: d.ShareDisposition, Flags: d.Flags, u: { Memory: { Start: start, Length: m.Length } } });
    } else if (d.Type === CmResourceTypeInterrupt && d.u.Interrupt && (d.Flags & CM_RESOURCE_INTERRUPT_MESSAGE) !== 0) {
      // MSI-X gives one descriptor per message; MSI one for the block.
      const count = messages.length > 1 ? 1 : powerOfTwoAtMost(messageCount(d));
      if (count === 0) continue;
      out.push({ Type: d.Type, ShareDisposition: d.ShareDisposition, Flags: d.Flags, u: { MessageInterrupt: { Raw: { MessageCount: count, Vector: 0, Affinity: 0 }, Translated: { Level: 0, Vector: 0, Affinity: 0 } } } });
    } else if (d.Type === CmResourceTypeInterrupt && d.u.Interrupt) {
      const gsi = d.u.Interrupt.MinimumVector;
      out.push({ Type: d.Type, ShareDisposition: d.ShareDisposition, Flags: d.Flags, u: { Interrupt: { Level: gsi, Vector: gsi, Affinity: 0xFFFFFFFF } } });
    }
  }
  return resourceList(requirements.BusNumber, out);
}

/**
 * Raw and translated resources for a device offering `offered`: message interrupts when
 * its driver handles them (`msiSupported`) and it has any, its line interrupt otherwise.
 */
export function assignResources(k: Kernel, offered: CM_RESOURCE_LIST, msiSupported: boolean): AssignedResources {
  const all = offered.List[0]?.PartialResourceList.PartialDescriptors ?? [];
  const isMessage = (d: CM_PARTIAL_RESOURCE_DESCRIPTOR) => d.Type === CmResourceTypeInterrupt && (d.Flags & CM_RESOURCE_INTERRUPT_MESSAGE) !== 0;
  const useMessages = msiSupported && all.some(isMessage);
  const chosen = all.filter((d) => d.Type !== CmResourceTypeInterrupt || isMessage(d) === useMessages);
  const raw = resourceList(offered.List[0]?.BusNumber ?? 0, chosen);
  const hal = HAL(k);
  const messages: AssignedResources["messages"] = [];
  const lines: AssignedResources["lines"] = [];
  const translated: CM_PARTIAL_RESOURCE_DESCRIPTOR[] = [];
  for (const d of chosen) {
    if (d.Type === CmResourceTypeInterrupt && !isMessage(d) && d.u.Interrupt) {
      // A line: the raw level is the I/O APIC input; its vector is shared by every device on it.
      const gsi = d.u.Interrupt.Level;
      const { vector, processor } = hal.lineVector(gsi);
      lines.push({ gsi, vector, irql: vector >> 4, processor });
      translated.push({ ...d, u: { Interrupt: { Level: vector >> 4, Vector: vector, Affinity: 2 ** processor } } });
      continue;
    }
    if (!isMessage(d) || !d.u.MessageInterrupt) {
      translated.push({ ...d, u: { ...d.u } });
      continue;
    }
    const count = d.u.MessageInterrupt.Raw.MessageCount;
    // A multi-message block uses consecutive vectors on one processor, aligned to the count.
    const first = hal.allocateVector();
    for (let m = 1; m < count; m++) hal.allocateVector();
    const apicId = hal.platform.processors[first.processor].apicId;
    for (let m = 0; m < count; m++) {
      messages.push({ address: messageAddress(apicId), data: first.vector + m, vector: first.vector + m, irql: (first.vector + m) >> 4, processor: first.processor });
    }
    d.u.MessageInterrupt.Raw.Vector = first.vector;
    d.u.MessageInterrupt.Raw.Affinity = 2 ** first.processor;
    translated.push({
      ...d,
      u: { MessageInterrupt: { Raw: { ...d.u.MessageInterrupt.Raw }, Translated: { Level: first.vector >> 4, Vector: first.vector, Affinity: 2 ** first.processor } } },
    });
  }
  return { raw, translated: resourceList(raw.List[0]?.BusNumber ?? 0, translated), messages, lines };
}
