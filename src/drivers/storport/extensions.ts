/**
 * The miniport's extensions: its device extension, each unit's extension and each
 * request's SRB extension, made from an ExtensionSpec (a byte count: zeroed nonpaged
 * memory, by address; a class: an instance). SRB extensions of a byte count are carved
 * from one block of device-reachable memory per adapter, so StorPortGetPhysicalAddress
 * gives their logical addresses as Storport does for memory a miniport hands its device.
 */
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { RtlZeroMemory } from "../../mm/memory.js";
import type { ExtensionSpec, PVOID_EXTENSION } from "./storport.js";
import type { RAID_ADAPTER_EXTENSION } from "./adapter.js";
import { RAID_REQUEST, maxNumberOfIo } from "./request.js";
import { allocateDmaMemory } from "./dma.js";

/** An extension for `spec`: null for 0, an instance for a class, zeroed nonpaged memory for a byte count. */
export function allocateExtension(spec: ExtensionSpec, tag: string): PVOID_EXTENSION {
  if (typeof spec === "function") return new spec();
  if (!spec) return null;
  const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, spec, tag);
  if (va !== 0) RtlZeroMemory(va, spec);
  return va || null;
}

/** Gives back an extension from allocateExtension. */
export function freeExtension(extension: PVOID_EXTENSION, tag: string): void {
  if (typeof extension === "number" && extension !== 0) ExFreePoolWithTag(extension, tag);
}

/** Most requests the port preallocates for an adapter, whatever MaxNumberOfIO says. */
const MAX_POOLED_REQUESTS = 1024;

/**
 * Fills the adapter's request pool (PASSIVE_LEVEL, at start): one request per I/O the
 * adapter takes, each with its SRB extension. Returns false when memory runs out.
 */
export function createRequestPool(a: RAID_ADAPTER_EXTENSION): boolean {
  const count = Math.min(maxNumberOfIo(a), MAX_POOLED_REQUESTS);
  const spec = a.ConfigInfo.SrbExtensionSize;
  let block = 0;
  let stride = 0;
  if (typeof spec === "number" && spec > 0) {
    stride = (spec + 15) & ~15;
    const region = allocateDmaMemory(a, stride * count);
    if (!region) return false;
    RtlZeroMemory(region.va, stride * count);
    block = region.va;
  }
  for (let i = a.AllRequests.length; i < count; i++) {
    const extension = typeof spec === "function" ? new spec() : block !== 0 ? block + i * stride : null;
    const r = new RAID_REQUEST(a, extension);
    a.AllRequests.push(r);
    a.FreeRequests.push(r);
  }
  return true;
}
