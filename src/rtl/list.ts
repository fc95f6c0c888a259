/**
 * Doubly linked lists: LIST_ENTRY with InitializeListHead, IsListEmpty, InsertHeadList,
 * InsertTailList, RemoveHeadList, RemoveTailList, RemoveEntryList and AppendTailList, and
 * CONTAINING_RECORD.
 *
 * Entries are TypeScript objects, not guest memory: a driver's record embeds its entry as
 * a field, as a C structure embeds its LIST_ENTRY, and passes itself to the entry's
 * constructor so CONTAINING_RECORD can find it again:
 *
 * ```ts
 * class MY_REQUEST { readonly ListEntry = new LIST_ENTRY(this); Length = 0; }
 * InsertTailList(ext.PendingList, request.ListEntry);
 * const request = CONTAINING_RECORD(RemoveHeadList(ext.PendingList), MY_REQUEST, "ListEntry");
 * ```
 *
 * A new entry's Flink and Blink are NULL, as in zeroed memory: a list head must be given
 * to InitializeListHead before use. Like Windows' inline routines, the insert and remove
 * routines check the links they are about to rewrite (the entry's neighbours must point
 * back at it) and stop the machine with 0x139 KERNEL_SECURITY_CHECK_FAILURE, P1 3 (a
 * LIST_ENTRY has been corrupted), when they do not: a double remove, an entry inserted
 * twice, a list head that was copied. These checks are always on, as they are in Windows.
 */
import { FAST_FAIL_CORRUPT_LIST_ENTRY, KERNEL_SECURITY_CHECK_FAILURE } from "../ke/bugcheck.js";
import { KE } from "../ke/kernel.js";

/** LIST_ENTRY: a link of a doubly linked list, or a list's head. */
export class LIST_ENTRY {
  /** The next entry (the first entry, for a head); NULL until linked. */
  Flink: LIST_ENTRY = null!;
  /** The previous entry (the last entry, for a head); NULL until linked. */
  Blink: LIST_ENTRY = null!;

  /** `record`: the object this entry is embedded in (what CONTAINING_RECORD returns). */
  constructor(readonly record: object | null = null) {}
}

/** Stops the machine: a list's links do not agree (0x139, P1 3; no trap frame or exception record). */
export function listEntryCorrupted(): never {
  return KE().bugCheck(KERNEL_SECURITY_CHECK_FAILURE, FAST_FAIL_CORRUPT_LIST_ENTRY, 0, 0, 0);
}

/** InitializeListHead: an empty list (Flink and Blink point at the head itself). */
export function InitializeListHead(ListHead: LIST_ENTRY): void {
  ListHead.Flink = ListHead;
  ListHead.Blink = ListHead;
}

/** IsListEmpty: TRUE if the list has no entries. */
export function IsListEmpty(ListHead: LIST_ENTRY): boolean {
  return ListHead.Flink === ListHead;
}

/** InsertHeadList: inserts `Entry` at the head of the list. */
export function InsertHeadList(ListHead: LIST_ENTRY, Entry: LIST_ENTRY): void {
  const Flink = ListHead.Flink;
  if (Flink.Blink !== ListHead) listEntryCorrupted();
  Entry.Flink = Flink;
  Entry.Blink = ListHead;
  Flink.Blink = Entry;
  ListHead.Flink = Entry;
}

/** InsertTailList: inserts `Entry` at the tail of the list. */
export function InsertTailList(ListHead: LIST_ENTRY, Entry: LIST_ENTRY): void {
  const Blink = ListHead.Blink;
  if (Blink.Flink !== ListHead) listEntryCorrupted();
  Entry.Flink = ListHead;
  Entry.Blink = Blink;
  Blink.Flink = Entry;
  ListHead.Blink = Entry;
}

/**
 * RemoveEntryList: unlinks `Entry` from its list; returns TRUE if the list is empty
 * afterwards. The entry's own links are left as they were.
 */
export function RemoveEntryList(Entry: LIST_ENTRY): boolean {
  const Flink = Entry.Flink;
  const Blink = Entry.Blink;
  if (Flink.Blink !== Entry || Blink.Flink !== Entry) listEntryCorrupted();
  Blink.Flink = Flink;
  Flink.Blink = Blink;
  return Flink === Blink;
}

/**
 * RemoveHeadList: unlinks and returns the first entry. On an empty list it returns the
 * head itself (check IsListEmpty first, as in C).
 */
export function RemoveHeadList(ListHead: LIST_ENTRY): LIST_ENTRY {
  const Entry = ListHead.Flink;
  const Flink = Entry.Flink;
  if (Entry.Blink !== ListHead || Flink.Blink !== Entry) listEntryCorrupted();
  ListHead.Flink = Flink;
  Flink.Blink = ListHead;
  return Entry;
}

/** RemoveTailList: unlinks and returns the last entry (the head itself on an empty list). */
export function RemoveTailList(ListHead: LIST_ENTRY): LIST_ENTRY {
  const Entry = ListHead.Blink;
  const Blink = Entry.Blink;
  if (Entry.Flink !== ListHead || Blink.Flink !== Entry) listEntryCorrupted();
  ListHead.Blink = Blink;
  Blink.Flink = ListHead;
  return Entry;
}

/**
 * AppendTailList: appends the circular list that starts at `ListToAppend` (an entry
 * whose list has no separate head, or the first entry of a list whose head is discarded)
 * to the tail of the list at `ListHead`.
 */
export function AppendTailList(ListHead: LIST_ENTRY, ListToAppend: LIST_ENTRY): void {
  const ListEnd = ListHead.Blink;
  ListHead.Blink.Flink = ListToAppend;
  ListHead.Blink = ListToAppend.Blink;
  ListToAppend.Blink.Flink = ListHead;
  ListToAppend.Blink = ListEnd;
}

/** A class whose instances embed entries (what CONTAINING_RECORD's Type names). */
export type RecordType<T> = abstract new (...args: never[]) => T;

/**
 * CONTAINING_RECORD: the record of type `Type` whose field `Field` is the entry at
 * `Address` (a LIST_ENTRY, SINGLE_LIST_ENTRY, SLIST_ENTRY or any object made with its
 * record). An entry of some other record, or of another field, is a bug in the driver:
 * it throws a TypeError (0x1E when it leaves the driver), where C would compute a wrong
 * pointer.
 */
export function CONTAINING_RECORD<T extends object, K extends keyof T>(Address: { readonly record: object | null }, Type: RecordType<T>, Field: K): T {
  const record = Address.record;
  if (!(record instanceof Type) || (record as T)[Field] !== (Address as unknown)) {
    throw new TypeError(`CONTAINING_RECORD: the entry is not the ${String(Field)} field of a ${Type.name}`);
  }
  return record as T;
}
