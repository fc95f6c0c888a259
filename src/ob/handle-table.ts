/**
 * Handle tables. Each process has one (EPROCESS.ObjectTable); the System process's is
 * also the kernel handle table, which holds the handles created with OBJ_KERNEL_HANDLE.
 *
 * A handle is a 64-bit value; this model carries it as a JS number equal to that value
 * read as a signed 64-bit integer:
 *
 * - a process's handles are multiples of 4 from 4 up (0x4, 0x8, ...);
 * - a kernel handle is the kernel table's index with the top bits set, as x64 Windows
 *   returns it: 0xFFFFFFFF80000004 is the number -0x7FFFFFFC (index 4 minus 2^31), and
 *   prints sign-extended as WinDbg prints it;
 * - the pseudo-handles are small negative numbers: NtCurrentProcess() -1,
 *   NtCurrentThread() -2 (INVALID_HANDLE_VALUE is also -1).
 *
 * The low two bits of a handle are ignored when it is looked up (applications may tag
 * them), and a closed handle's value is handed out again, the most recently freed first.
 */
import type { ACCESS_MASK } from "./access.js";
import type { OBJECT_HEADER } from "./header.js";

/** A handle (see the file comment for how its 64-bit value is carried). */
export type HANDLE = number;

/** The kernel-handle bit of a handle's low 32 bits (KERNEL_HANDLE_MASK). */
export const KERNEL_HANDLE_MASK = 0x80000000;
/** NtCurrentProcess() / ZwCurrentProcess(): the calling process. */
export const NtCurrentProcess: HANDLE = -1;
/** NtCurrentThread() / ZwCurrentThread(): the calling thread. */
export const NtCurrentThread: HANDLE = -2;
/** The first handle value a table hands out. */
const FIRST_HANDLE = 4;

/** HANDLE_TABLE_ENTRY attributes: the handle may not be closed (OBJ_PROTECT_CLOSE). */
export const OBJ_PROTECT_CLOSE = 0x00000001;

/** One handle: the object, the access it was granted, its attributes. */
export class HANDLE_TABLE_ENTRY {
  constructor(
    readonly Object: OBJECT_HEADER,
    readonly GrantedAccess: ACCESS_MASK,
    /** OBJ_INHERIT, OBJ_PROTECT_CLOSE. */
    public Attributes: number,
  ) {}
}

/** True for a value the kernel handle table gave out (the kernel bit set, above the pseudo-handles). */
export function isKernelHandleValue(Handle: HANDLE): boolean {
  return Handle < 0 && Handle >= -KERNEL_HANDLE_MASK && Handle < -16;
}

/** The kernel handle for index `value` of the kernel table. */
export function encodeKernelHandle(value: number): HANDLE {
  return value - KERNEL_HANDLE_MASK;
}

/** The index a kernel handle stands for. */
export function decodeKernelHandle(Handle: HANDLE): number {
  return Handle + KERNEL_HANDLE_MASK;
}

/** A handle table: handle values (indices, multiples of 4) to entries. */
export class HANDLE_TABLE {
  private readonly entries = new Map<number, HANDLE_TABLE_ENTRY>();
  private readonly free: number[] = [];
  private next = FIRST_HANDLE;

  /** @param kernel this is the kernel handle table (its handles are returned with the kernel bit) */
  constructor(readonly kernel: boolean, readonly address: number) {}

  /** Adds an entry; returns its index (the handle value before any kernel encoding). */
  insert(entry: HANDLE_TABLE_ENTRY): number {
    const index = this.free.pop() ?? this.take();
    this.entries.set(index, entry);
    return index;
  }

  private take(): number {
    const index = this.next;
    this.next += 4;
    return index;
  }

  /** The entry at `index` (the low two bits ignored), or undefined. */
  entry(index: number): HANDLE_TABLE_ENTRY | undefined {
    return this.entries.get(index & ~3);
  }

  /** Removes the entry at `index`; returns it, or undefined if there was none. */
  remove(index: number): HANDLE_TABLE_ENTRY | undefined {
    const i = index & ~3;
    const e = this.entries.get(i);
    if (e) {
      this.entries.delete(i);
      this.free.push(i);
    }
    return e;
  }

  /** The body of the object at `handle`, or undefined (the lookup user-mode services make). */
  get(handle: HANDLE): object | undefined {
    return this.entries.get((this.kernel && isKernelHandleValue(handle) ? decodeKernelHandle(handle) : handle) & ~3)?.Object.Body;
  }

  /** Handles in use. */
  get HandleCount(): number {
    return this.entries.size;
  }

  /** The entries with their indices, lowest first. */
  list(): [number, HANDLE_TABLE_ENTRY][] {
    return [...this.entries.entries()].sort((a, b) => a[0] - b[0]);
  }
}
