// Where functions sit and what reaches them. A function behind PCI-to-PCI bridges is on
// its parent's secondary bus; a configuration request reaches it only if every bridge
// on the way routes that bus (secondary <= bus <= subordinate), a memory request only if
// every bridge has memory decode on and a window covering the address, and its own
// requests (DMA, MSI) leave only through bridges with bus mastering on. Each function's
// link is the segment above it, so a request from behind a switch crosses, and queues
// on, every link on the path: links above a switch are shared.

import { functionCount, functionLink, functionTopology, pciFunction, NO_PARENT } from "./function";
import { configPeek } from "./config";
import {
  CFG_COMMAND, CFG_MEMORY_BASE, CFG_MEMORY_LIMIT, CFG_PREFETCH_BASE, CFG_PREFETCH_BASE_UPPER, CFG_PREFETCH_LIMIT,
  CFG_PREFETCH_LIMIT_UPPER, CFG_SECONDARY_BUS, CFG_SUBORDINATE_BUS, CMD_BUS_MASTER, CMD_MEMORY_SPACE,
} from "./header";
import { sendDown, sendUp } from "../dma/link";

/** The bus function `fn` is on now: 0 on the root bus, else its bridge's secondary bus. */
export function functionBus(fn: u32): u32 {
  const parent = functionTopology(fn).parent;
  return parent == NO_PARENT ? 0 : configPeek(parent, CFG_SECONDARY_BUS, 1);
}

/** True when every bridge from `bridge` up routes configuration requests for `bus`. */
function routesBus(bridge: u32, bus: u32): bool {
  for (let b = bridge; b != NO_PARENT; b = functionTopology(b).parent) {
    if (bus < configPeek(b, CFG_SECONDARY_BUS, 1) || bus > configPeek(b, CFG_SUBORDINATE_BUS, 1)) return false;
  }
  return true;
}

/** The function a configuration request for bus/device/function reaches, or -1. */
export function configTarget(bus: u32, device: u32, fnNumber: u32): i32 {
  const devfn = (device << 3) | fnNumber;
  const n = functionCount();
  for (let i: u32 = 0; i < n; i++) {
    if ((pciFunction(i).bdf & 0xFF) != devfn || functionTopology(i).removed != 0) continue;
    const parent = functionTopology(i).parent;
    if (parent == NO_PARENT ? bus == 0 : configPeek(parent, CFG_SECONDARY_BUS, 1) == bus && routesBus(parent, bus)) return <i32>i;
  }
  return -1;
}

/** A bridge's memory window [base, limit] (limit < base: closed). */
function inWindow(b: u32, address: u64, size: u64): bool {
  const base = <u64>(configPeek(b, CFG_MEMORY_BASE, 2) & 0xFFF0) << 16;
  const limit = (<u64>(configPeek(b, CFG_MEMORY_LIMIT, 2) & 0xFFF0) << 16) | 0xFFFFF;
  if (base <= limit && address >= base && address + size - 1 <= limit) return true;
  const pbase = (<u64>configPeek(b, CFG_PREFETCH_BASE_UPPER, 4) << 32) | (<u64>(configPeek(b, CFG_PREFETCH_BASE, 2) & 0xFFF0) << 16);
  const plimit = (<u64>configPeek(b, CFG_PREFETCH_LIMIT_UPPER, 4) << 32) | (<u64>(configPeek(b, CFG_PREFETCH_LIMIT, 2) & 0xFFF0) << 16) | 0xFFFFF;
  return pbase <= plimit && address >= pbase && address + size - 1 <= plimit;
}

/** True when memory requests for [address, address + size) reach function `fn` through its bridges. */
export function memoryReaches(fn: u32, address: u64, size: u64): bool {
  for (let b = functionTopology(fn).parent; b != NO_PARENT; b = functionTopology(b).parent) {
    if ((configPeek(b, CFG_COMMAND, 2) & CMD_MEMORY_SPACE) == 0 || !inWindow(b, address, size)) return false;
  }
  return true;
}

/** True when every bridge above `fn` forwards its requests upstream (bus master on). */
export function upstreamOpen(fn: u32): bool {
  for (let b = functionTopology(fn).parent; b != NO_PARENT; b = functionTopology(b).parent) {
    if ((configPeek(b, CFG_COMMAND, 2) & CMD_BUS_MASTER) == 0) return false;
  }
  return true;
}

/** Sends a TLP from `fn` toward the root complex across every link on the path; returns its arrival (ps). */
export function sendUpPath(fn: u32, t: u64, payload: u32): u64 {
  let arrival = t;
  for (let f = fn; f != NO_PARENT; f = functionTopology(f).parent) arrival = sendUp(functionLink(f), arrival, payload);
  return arrival;
}

/** Sends a TLP from the root complex down to `fn` across every link on the path; returns its arrival (ps). */
export function sendDownPath(fn: u32, t: u64, payload: u32): u64 {
  // The links from the top of the path down: collect the path first (depth is small).
  let depth: u32 = 0;
  for (let f = fn; f != NO_PARENT; f = functionTopology(f).parent) depth++;
  let arrival = t;
  for (let level: i32 = <i32>depth - 1; level >= 0; level--) {
    let f = fn;
    for (let i: i32 = 0; i < level; i++) f = functionTopology(f).parent;
    arrival = sendDown(functionLink(f), arrival, payload);
  }
  return arrival;
}
