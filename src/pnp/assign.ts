/**
 * Resource assignment: the device's boot configuration (IRP_MN_QUERY_RESOURCES) becomes
 * its raw resources, and the PnP manager translates them for the processor: memory as
 * is; a line interrupt gets the vector of its I/O APIC input; each message interrupt gets
 * a vector and a target processor from the HAL, with the message address and data that
 * select them.
 */
import type { Kernel } from "../ke/kernel.js";
import { HAL } from "../hal/hal.js";
import {
  CmResourceTypeInterrupt, CM_RESOURCE_INTERRUPT_MESSAGE, resourceList, type AssignedResources, type CM_PARTIAL_RESOURCE_DESCRIPTOR, type CM_RESOURCE_LIST,
} from "../io/resources.js";

/** Local-APIC message address for a processor (x86 convention, shared/specs/pci.md). */
export function messageAddress(apicId: number): number {
  return 0xFEE00000 + apicId * 0x1000;
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
