// Lists against wdm.h's contracts: LIST_ENTRY routines (and their 0x139
// KERNEL_SECURITY_CHECK_FAILURE, P1 3, on corrupted links), CONTAINING_RECORD, the
// ExInterlocked list routines (return values: the previous first/last entry or NULL),
// SINGLE_LIST_ENTRY and SLIST_HEADER.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, LIST_ENTRY, InitializeListHead, IsListEmpty, InsertHeadList, InsertTailList, RemoveHeadList, RemoveTailList, RemoveEntryList,
  AppendTailList, CONTAINING_RECORD, ExInterlockedInsertHeadList, ExInterlockedInsertTailList, ExInterlockedRemoveHeadList, KSPIN_LOCK,
  KeInitializeSpinLock, SINGLE_LIST_ENTRY, PushEntryList, PopEntryList, ExInterlockedPushEntryList, ExInterlockedPopEntryList, SLIST_HEADER,
  SLIST_ENTRY, InitializeSListHead, InterlockedPushEntrySList, InterlockedPopEntrySList, InterlockedFlushSList, ExInterlockedPushEntrySList,
  ExInterlockedPopEntrySList, ExInterlockedFlushSList, ExQueryDepthSList, KeRaiseIrql, KeGetCurrentIrql, HIGH_LEVEL, DISPATCH_LEVEL,
  KERNEL_SECURITY_CHECK_FAILURE,
} from "../../src/index.js";
import { bootDefault, crash, expectBugCheck, params } from "../support/kernel-harness.js";

/** A driver record with an embedded list entry, as C's `struct { LIST_ENTRY Link; ULONG Id; }`. */
class REQUEST {
  readonly Link = new LIST_ENTRY(this);
  readonly Single = new SINGLE_LIST_ENTRY(this);
  readonly SLink = new SLIST_ENTRY(this);
  constructor(readonly Id: number) {}
}

/** The ids of a list's records, walking Flink from the head. */
function ids(head: LIST_ENTRY): number[] {
  const out: number[] = [];
  for (let e = head.Flink; e !== head; e = e.Flink) out.push(CONTAINING_RECORD(e, REQUEST, "Link").Id);
  return out;
}

/** The ids walking Blink from the head (the list backwards). */
function idsBackwards(head: LIST_ENTRY): number[] {
  const out: number[] = [];
  for (let e = head.Blink; e !== head; e = e.Blink) out.push(CONTAINING_RECORD(e, REQUEST, "Link").Id);
  return out;
}

describe("LIST_ENTRY", () => {
  it("InitializeListHead makes an empty list; insert at head and tail; remove head, tail and a given entry", () => {
    const head = new LIST_ENTRY();
    InitializeListHead(head);
    expect(IsListEmpty(head)).toBe(true);
    const r = [1, 2, 3, 4].map((i) => new REQUEST(i));
    InsertTailList(head, r[1].Link);
    InsertTailList(head, r[2].Link);
    InsertHeadList(head, r[0].Link);
    InsertTailList(head, r[3].Link);
    expect(ids(head)).toEqual([1, 2, 3, 4]);
    expect(idsBackwards(head)).toEqual([4, 3, 2, 1]);
    expect(CONTAINING_RECORD(RemoveHeadList(head), REQUEST, "Link").Id).toBe(1);
    expect(CONTAINING_RECORD(RemoveTailList(head), REQUEST, "Link").Id).toBe(4);
    expect(RemoveEntryList(r[1].Link)).toBe(false); // one entry left
    expect(RemoveEntryList(r[2].Link)).toBe(true); // now empty
    expect(IsListEmpty(head)).toBe(true);
    expect(RemoveHeadList(head)).toBe(head); // as in C: the head itself on an empty list
  });

  it("AppendTailList appends a headless circular list", () => {
    const head = new LIST_ENTRY();
    InitializeListHead(head);
    const a = new REQUEST(1);
    InsertTailList(head, a.Link);
    // A second list whose head is discarded: its first entry is the list to append.
    const other = new LIST_ENTRY();
    InitializeListHead(other);
    const b = new REQUEST(2);
    const c = new REQUEST(3);
    InsertTailList(other, b.Link);
    InsertTailList(other, c.Link);
    RemoveEntryList(other);
    AppendTailList(head, b.Link);
    expect(ids(head)).toEqual([1, 2, 3]);
    expect(idsBackwards(head)).toEqual([3, 2, 1]);
  });

  it("CONTAINING_RECORD returns the record, and refuses an entry of another field or record", () => {
    const r = new REQUEST(9);
    expect(CONTAINING_RECORD(r.Link, REQUEST, "Link")).toBe(r);
    expect(CONTAINING_RECORD(r.Single, REQUEST, "Single")).toBe(r);
    expect(() => CONTAINING_RECORD(r.Link, REQUEST, "Single")).toThrow(TypeError);
    expect(() => CONTAINING_RECORD(new LIST_ENTRY(), REQUEST, "Link")).toThrow(TypeError);
  });
});

describe("list corruption: 0x139 KERNEL_SECURITY_CHECK_FAILURE, P1 3", () => {
  const corruption = async (routine: () => void) => {
    const bc = await crash(routine);
    expectBugCheck(bc, KERNEL_SECURITY_CHECK_FAILURE, 3);
    expect(params(bc)[3]).toBe(0);
    expect(bc.bugCheckName).toBe("KERNEL_SECURITY_CHECK_FAILURE");
  };

  it("removing an entry twice (its neighbours no longer point at it)", async () => {
    await corruption(() => {
      const head = new LIST_ENTRY();
      InitializeListHead(head);
      const a = new REQUEST(1);
      const b = new REQUEST(2);
      InsertTailList(head, a.Link);
      InsertTailList(head, b.Link);
      RemoveEntryList(a.Link);
      RemoveEntryList(a.Link);
    });
  });

  it("inserting at the tail of a list whose last entry was unlinked behind its back", async () => {
    await corruption(() => {
      const head = new LIST_ENTRY();
      InitializeListHead(head);
      const a = new REQUEST(1);
      InsertTailList(head, a.Link);
      a.Link.Flink = a.Link; // corrupted
      InsertTailList(head, new REQUEST(2).Link);
    });
  });

  it("inserting at the head of a copied list head", async () => {
    await corruption(() => {
      const head = new LIST_ENTRY();
      InitializeListHead(head);
      InsertTailList(head, new REQUEST(1).Link);
      const copy = new LIST_ENTRY();
      copy.Flink = head.Flink;
      copy.Blink = head.Blink;
      InsertHeadList(copy, new REQUEST(2).Link);
    });
  });

  it("RemoveHeadList and RemoveTailList check the links they rewrite", async () => {
    await corruption(() => {
      const head = new LIST_ENTRY();
      InitializeListHead(head);
      const a = new REQUEST(1);
      InsertTailList(head, a.Link);
      a.Link.Blink = new LIST_ENTRY();
      RemoveHeadList(head);
    });
    await corruption(() => {
      const head = new LIST_ENTRY();
      InitializeListHead(head);
      const a = new REQUEST(1);
      InsertTailList(head, a.Link);
      a.Link.Flink = new LIST_ENTRY();
      RemoveTailList(head);
    });
  });
});

describe("interlocked and singly linked lists", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("ExInterlockedInsertHeadList / InsertTailList return the previous first / last entry or NULL; RemoveHeadList returns NULL when empty", async () => {
    const r = await machine.exec(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const head = new LIST_ENTRY();
      InitializeListHead(head);
      const a = new REQUEST(1);
      const b = new REQUEST(2);
      const c = new REQUEST(3);
      const first = ExInterlockedInsertTailList(head, a.Link, lock);
      const prevLast = ExInterlockedInsertTailList(head, b.Link, lock);
      const prevFirst = ExInterlockedInsertHeadList(head, c.Link, lock);
      const order = ids(head);
      const removed = [ExInterlockedRemoveHeadList(head, lock), ExInterlockedRemoveHeadList(head, lock), ExInterlockedRemoveHeadList(head, lock)];
      const empty = ExInterlockedRemoveHeadList(head, lock);
      return {
        first, prevLast: prevLast === a.Link, prevFirst: prevFirst === a.Link, order,
        removed: removed.map((e) => CONTAINING_RECORD(e!, REQUEST, "Link").Id), empty, lockFree: lock.owner, irql: KeGetCurrentIrql(),
      };
    });
    expect(r).toEqual({ first: null, prevLast: true, prevFirst: true, order: [3, 1, 2], removed: [3, 1, 2], empty: null, lockFree: -1, irql: 0 });
  });

  it("the ExInterlocked list routines may be called at any IRQL and leave it unchanged", async () => {
    const r = await machine.exec(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const head = new LIST_ENTRY();
      InitializeListHead(head);
      const old = KeRaiseIrql(HIGH_LEVEL);
      ExInterlockedInsertTailList(head, new REQUEST(1).Link, lock);
      const e = ExInterlockedRemoveHeadList(head, lock);
      const irql = KeGetCurrentIrql();
      return { old, irql, id: CONTAINING_RECORD(e!, REQUEST, "Link").Id };
    }, { irql: DISPATCH_LEVEL });
    expect(r).toEqual({ old: DISPATCH_LEVEL, irql: HIGH_LEVEL, id: 1 });
  });

  it("PushEntryList / PopEntryList are LIFO; PopEntryList returns NULL when empty; the ExInterlocked forms return the previous first entry", async () => {
    const r = await machine.exec(() => {
      const head = new SINGLE_LIST_ENTRY();
      const a = new REQUEST(1);
      const b = new REQUEST(2);
      PushEntryList(head, a.Single);
      PushEntryList(head, b.Single);
      const popped = [PopEntryList(head), PopEntryList(head)].map((e) => CONTAINING_RECORD(e!, REQUEST, "Single").Id);
      const empty = PopEntryList(head);
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const prev1 = ExInterlockedPushEntryList(head, a.Single, lock);
      const prev2 = ExInterlockedPushEntryList(head, b.Single, lock);
      const top = ExInterlockedPopEntryList(head, lock);
      return { popped, empty, prev1, prev2IsA: prev2 === a.Single, top: CONTAINING_RECORD(top!, REQUEST, "Single").Id };
    });
    expect(r).toEqual({ popped: [2, 1], empty: null, prev1: null, prev2IsA: true, top: 2 });
  });

  it("SLIST: push returns the previous first entry, pop the first or NULL, ExQueryDepthSList counts, flush empties and returns the chain", async () => {
    const r = await machine.exec(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const head = new SLIST_HEADER();
      InitializeSListHead(head);
      const a = new REQUEST(1);
      const b = new REQUEST(2);
      const c = new REQUEST(3);
      const p1 = InterlockedPushEntrySList(head, a.SLink);
      const p2 = ExInterlockedPushEntrySList(head, b.SLink, lock);
      const p3 = InterlockedPushEntrySList(head, c.SLink);
      const depth = ExQueryDepthSList(head);
      const pop = CONTAINING_RECORD(InterlockedPopEntrySList(head)!, REQUEST, "SLink").Id;
      const pop2 = CONTAINING_RECORD(ExInterlockedPopEntrySList(head, lock)!, REQUEST, "SLink").Id;
      const sequence = head.Sequence;
      InterlockedPushEntrySList(head, b.SLink);
      const chain = InterlockedFlushSList(head);
      const chainIds: number[] = [];
      for (let e = chain; e; e = e.Next) chainIds.push(CONTAINING_RECORD(e, REQUEST, "SLink").Id);
      const afterFlush = [ExQueryDepthSList(head), InterlockedPopEntrySList(head), ExInterlockedFlushSList(head)];
      return { p1, p2IsA: p2 === a.SLink, p3IsB: p3 === b.SLink, depth, pop, pop2, sequence, chainIds, afterFlush };
    });
    expect(r).toEqual({ p1: null, p2IsA: true, p3IsB: true, depth: 3, pop: 3, pop2: 2, sequence: 5, chainIds: [2, 1], afterFlush: [0, null, null] });
  });
});
