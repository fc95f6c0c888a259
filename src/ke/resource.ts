/**
 * Executive resources (ERESOURCE): reader/writer locks with owners. Any number of threads
 * may own one shared, or one thread exclusive; an owner may acquire it again (each
 * acquisition needs its release; an exclusive owner may also acquire it shared). A thread
 * that owns it shared and asks for it exclusive waits for itself forever (under the
 * verifier's deadlock detection, 0xC4 / 0x1000). Acquiring and releasing need normal
 * kernel APCs disabled (a critical region; 0xC4 / 0x37 and 0x38 under the verifier).
 *
 * Waiters are queued first come first; a release that frees the resource hands it over
 * at once: an exclusive owner's release to every shared waiter if there is one, else to
 * the first exclusive waiter; the last shared owner's release to the first exclusive
 * waiter if there is one, else to every shared waiter.
 */
import { RESOURCE_NOT_OWNED } from "./bugcheck.js";
import { KE, type Kernel } from "./kernel.js";
import { waitForLock, wakeLockWaiter } from "./lock-waiters.js";
import { STATUS_SUCCESS, type NTSTATUS } from "./ntstatus.js";
import { threadAddress, type KTHREAD } from "./scheduler.js";
import {
  requireApcsDisabled, VERIFIER_DELETE_OWNED_LOCK, VERIFIER_RESOURCE_ACQUIRE_APCS_ENABLED, VERIFIER_RESOURCE_DELETE_UNINITIALIZED,
  VERIFIER_RESOURCE_REINITIALIZED, VERIFIER_RESOURCE_RELEASE_APCS_ENABLED, VERIFIER_SELF_DEADLOCK, verifierViolation,
} from "./sync-verifier.js";

/** sizeof(ERESOURCE) on x64, bytes. */
const ERESOURCE_SIZE = 0x68;

/** ERESOURCE.Flag: an exclusive owner holds the resource. */
export const ResourceOwnedExclusive = 0x80;

/** ERESOURCE_THREAD: identifies an owner (ExGetCurrentResourceThread). */
export type ERESOURCE_THREAD = KTHREAD;

/** ERESOURCE: an executive resource. */
export class ERESOURCE {
  /** Acquisitions outstanding, recursive ones included. */
  ActiveCount = 0;
  /** ResourceOwnedExclusive while an exclusive owner holds it. */
  Flag = 0;
  /** Each owner and how many acquisitions it holds. */
  readonly OwnerTable = new Map<KTHREAD, number>();
  /** How many times a thread had to wait for it. */
  ContentionCount = 0;
  /** Threads waiting for it, first come first (KTHREAD.lockWaitExclusive says how). */
  readonly waiters: KTHREAD[] = [];
  /** Between ExInitializeResourceLite and ExDeleteResourceLite. */
  initialized = false;
  /** Kernel-space address, for bug check parameters. */
  address = 0;
}

/** How a shared acquisition treats exclusive waiters. */
const enum SharedPolicy {
  /** ExAcquireResourceSharedLite: waits behind them unless the caller owns the resource already. */
  Normal,
  /** ExAcquireSharedStarveExclusive: never waits behind them. */
  StarveExclusive,
  /** ExAcquireSharedWaitForExclusive: waits behind them even if the caller owns it shared. */
  WaitForExclusive,
}

/** ExInitializeResourceLite: a free resource. Initializing one in use is 0xC4 / 0xD0 under the verifier. */
export function ExInitializeResourceLite(Resource: ERESOURCE): NTSTATUS {
  const k = KE();
  k.chargePs(k.cost.KeInitializeEvent);
  if (Resource.initialized) verifierViolation(k, VERIFIER_RESOURCE_REINITIALIZED, Resource.address, 0, 0);
  reset(k, Resource);
  return STATUS_SUCCESS;
}

/** ExReinitializeResourceLite: makes the resource free again, as if just initialized. */
export function ExReinitializeResourceLite(Resource: ERESOURCE): NTSTATUS {
  const k = KE();
  k.chargePs(k.cost.KeInitializeEvent);
  reset(k, Resource);
  return STATUS_SUCCESS;
}

function reset(k: Kernel, r: ERESOURCE): void {
  r.ActiveCount = 0;
  r.Flag = 0;
  r.OwnerTable.clear();
  r.ContentionCount = 0;
  r.waiters.length = 0;
  r.initialized = true;
  if (r.address === 0) r.address = k.objectAddress(ERESOURCE_SIZE);
}

/**
 * ExDeleteResourceLite: the resource may no longer be used. Under the verifier, deleting
 * one never initialized is 0xC4 / 0xD1 and one still owned 0xC4 / 0x100B.
 */
export function ExDeleteResourceLite(Resource: ERESOURCE): NTSTATUS {
  const k = KE();
  if (!Resource.initialized) verifierViolation(k, VERIFIER_RESOURCE_DELETE_UNINITIALIZED, Resource.address, 0, 0);
  const owner = Resource.OwnerTable.keys().next();
  if (!owner.done) verifierViolation(k, VERIFIER_DELETE_OWNED_LOCK, Resource.address, threadAddress(owner.value), 0);
  Resource.initialized = false;
  return STATUS_SUCCESS;
}

/** ExGetCurrentResourceThread: the calling thread's ERESOURCE_THREAD. */
export function ExGetCurrentResourceThread(): ERESOURCE_THREAD {
  return KE().cpu.CurrentThread!;
}

function addOwner(r: ERESOURCE, thread: KTHREAD, exclusive: boolean): void {
  r.OwnerTable.set(thread, (r.OwnerTable.get(thread) ?? 0) + 1);
  r.ActiveCount++;
  if (exclusive) r.Flag |= ResourceOwnedExclusive;
}

function hasExclusiveWaiter(r: ERESOURCE): boolean {
  for (const t of r.waiters) if (t.lockWaitExclusive) return true;
  return false;
}

/** Waits for `r` (Wait TRUE) or gives up (FALSE); resolves to TRUE once granted. */
function waitOrFail(k: Kernel, r: ERESOURCE, exclusive: boolean, Wait: boolean): Promise<boolean> {
  if (!Wait) return Promise.resolve(false);
  r.ContentionCount++;
  return waitForLock(k, r.waiters, exclusive, "ERESOURCE").then(() => true);
}

/** The checks and charge every acquisition starts with; returns the calling thread. */
function beginAcquire(k: Kernel, r: ERESOURCE): KTHREAD {
  const thread = k.cpu.CurrentThread!;
  requireApcsDisabled(k, thread, VERIFIER_RESOURCE_ACQUIRE_APCS_ENABLED, r.address);
  k.chargePs(k.cost.ExAcquireResourceLite);
  return thread;
}

function acquireShared(r: ERESOURCE, policy: SharedPolicy, Wait: boolean): Promise<boolean> {
  const k = KE();
  const thread = beginAcquire(k, r);
  const held = r.OwnerTable.get(thread) ?? 0;
  const exclusiveOwned = (r.Flag & ResourceOwnedExclusive) !== 0;
  let grant: boolean;
  if (r.ActiveCount === 0) grant = true;
  else if (exclusiveOwned) grant = held > 0;
  else if (policy === SharedPolicy.StarveExclusive) grant = true;
  else if (held > 0 && policy === SharedPolicy.Normal) grant = true;
  else grant = !hasExclusiveWaiter(r);
  if (grant) {
    addOwner(r, thread, false);
    return Promise.resolve(true);
  }
  return waitOrFail(k, r, false, Wait);
}

/**
 * ExAcquireResourceSharedLite: acquires the resource shared and returns TRUE: at once if
 * it is free, if the caller owns it already (shared or exclusive), or if it is owned
 * shared and no thread waits for it exclusive; otherwise waits (Wait TRUE) or returns
 * FALSE. Needs normal kernel APCs disabled (0xC4 / 0x37 under the verifier). IRQL <= APC_LEVEL.
 */
export function ExAcquireResourceSharedLite(Resource: ERESOURCE, Wait: boolean): Promise<boolean> {
  return acquireShared(Resource, SharedPolicy.Normal, Wait);
}

/** ExAcquireSharedStarveExclusive: as ExAcquireResourceSharedLite, but never waits behind exclusive waiters while it is owned shared. */
export function ExAcquireSharedStarveExclusive(Resource: ERESOURCE, Wait: boolean): Promise<boolean> {
  return acquireShared(Resource, SharedPolicy.StarveExclusive, Wait);
}

/** ExAcquireSharedWaitForExclusive: as ExAcquireResourceSharedLite, but waits behind exclusive waiters even when the caller owns it shared. */
export function ExAcquireSharedWaitForExclusive(Resource: ERESOURCE, Wait: boolean): Promise<boolean> {
  return acquireShared(Resource, SharedPolicy.WaitForExclusive, Wait);
}

/**
 * ExAcquireResourceExclusiveLite: acquires the resource exclusive and returns TRUE: at
 * once if it is free or the caller owns it exclusive already; otherwise waits (Wait TRUE)
 * or returns FALSE. A caller that owns it only shared deadlocks (0xC4 / 0x1000 under the
 * verifier). Needs normal kernel APCs disabled (0xC4 / 0x37). IRQL <= APC_LEVEL.
 */
export function ExAcquireResourceExclusiveLite(Resource: ERESOURCE, Wait: boolean): Promise<boolean> {
  const k = KE();
  const r = Resource;
  const thread = beginAcquire(k, r);
  const held = r.OwnerTable.get(thread) ?? 0;
  if (r.ActiveCount === 0 || (held > 0 && (r.Flag & ResourceOwnedExclusive) !== 0)) {
    addOwner(r, thread, true);
    return Promise.resolve(true);
  }
  if (held > 0 && Wait) verifierViolation(k, VERIFIER_SELF_DEADLOCK, r.address, 0, 0);
  return waitOrFail(k, r, true, Wait);
}

/** Grants `r`, just freed, to its waiters: shared ones first if `sharedFirst`, else the first exclusive one first. */
function handOver(k: Kernel, r: ERESOURCE, sharedFirst: boolean): void {
  if (r.waiters.length === 0) return;
  const anyShared = r.waiters.some((t) => !t.lockWaitExclusive);
  const exclusive = sharedFirst && anyShared ? undefined : r.waiters.find((t) => t.lockWaitExclusive);
  if (exclusive) {
    r.waiters.splice(r.waiters.indexOf(exclusive), 1);
    addOwner(r, exclusive, true);
    wakeLockWaiter(k, exclusive);
    return;
  }
  grantSharedWaiters(k, r);
}

/** Grants the resource shared to every shared waiter, in the order they came. */
function grantSharedWaiters(k: Kernel, r: ERESOURCE): void {
  let i = 0;
  while (i < r.waiters.length) {
    const t = r.waiters[i];
    if (t.lockWaitExclusive) {
      i++;
      continue;
    }
    r.waiters.splice(i, 1);
    addOwner(r, t, false);
    wakeLockWaiter(k, t);
  }
}

/**
 * ExReleaseResourceForThreadLite: gives back one acquisition held by `ResourceThreadId`;
 * the last one frees the resource and hands it to waiters. A thread that holds none is
 * bug check 0xE3 RESOURCE_NOT_OWNED (P1 resource, P2 thread). Needs normal kernel APCs
 * disabled (0xC4 / 0x38 under the verifier). IRQL <= DISPATCH_LEVEL.
 */
export function ExReleaseResourceForThreadLite(Resource: ERESOURCE, ResourceThreadId: ERESOURCE_THREAD): void {
  const k = KE();
  const r = Resource;
  requireApcsDisabled(k, k.cpu.CurrentThread, VERIFIER_RESOURCE_RELEASE_APCS_ENABLED, r.address);
  k.chargePs(k.cost.ExReleaseResourceLite);
  const held = r.OwnerTable.get(ResourceThreadId) ?? 0;
  if (held === 0) k.bugCheck(RESOURCE_NOT_OWNED, r.address, ResourceThreadId ? threadAddress(ResourceThreadId) : 0, 0, 0);
  if (held === 1) r.OwnerTable.delete(ResourceThreadId);
  else r.OwnerTable.set(ResourceThreadId, held - 1);
  r.ActiveCount--;
  if (r.ActiveCount > 0) return;
  const wasExclusive = (r.Flag & ResourceOwnedExclusive) !== 0;
  r.Flag = 0;
  handOver(k, r, wasExclusive);
}

/** ExReleaseResourceLite: ExReleaseResourceForThreadLite for the calling thread. */
export function ExReleaseResourceLite(Resource: ERESOURCE): void {
  ExReleaseResourceForThreadLite(Resource, KE().cpu.CurrentThread!);
}

/**
 * ExConvertExclusiveToSharedLite: the calling thread's exclusive ownership becomes shared
 * (its acquisitions kept), and every shared waiter is granted shared access too. The
 * caller must own it exclusive (0xE3 otherwise). IRQL <= DISPATCH_LEVEL.
 */
export function ExConvertExclusiveToSharedLite(Resource: ERESOURCE): void {
  const k = KE();
  const r = Resource;
  const thread = k.cpu.CurrentThread!;
  k.chargePs(k.cost.ExReleaseResourceLite);
  if ((r.Flag & ResourceOwnedExclusive) === 0 || !r.OwnerTable.has(thread)) k.bugCheck(RESOURCE_NOT_OWNED, r.address, thread ? threadAddress(thread) : 0, 0, 0);
  r.Flag &= ~ResourceOwnedExclusive;
  grantSharedWaiters(k, r);
}

/** ExIsResourceAcquiredExclusiveLite: TRUE if the calling thread owns the resource exclusive. */
export function ExIsResourceAcquiredExclusiveLite(Resource: ERESOURCE): boolean {
  const thread = KE().cpu.CurrentThread;
  return (Resource.Flag & ResourceOwnedExclusive) !== 0 && thread !== null && Resource.OwnerTable.has(thread);
}

/** ExIsResourceAcquiredSharedLite: how many acquisitions the calling thread holds (shared or exclusive); 0 if none. */
export function ExIsResourceAcquiredSharedLite(Resource: ERESOURCE): number {
  const thread = KE().cpu.CurrentThread;
  return thread === null ? 0 : Resource.OwnerTable.get(thread) ?? 0;
}

/** ExGetExclusiveWaiterCount: how many threads wait to acquire the resource exclusive. */
export function ExGetExclusiveWaiterCount(Resource: ERESOURCE): number {
  let n = 0;
  for (const t of Resource.waiters) if (t.lockWaitExclusive) n++;
  return n;
}

/** ExGetSharedWaiterCount: how many threads wait to acquire the resource shared. */
export function ExGetSharedWaiterCount(Resource: ERESOURCE): number {
  return Resource.waiters.length - ExGetExclusiveWaiterCount(Resource);
}
