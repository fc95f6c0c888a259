/**
 * The object manager of one machine: object headers, the kernel handle table, the
 * process handle tables, what it counts per type, and the namespace, which it builds when
 * first asked for:
 *
 *   \                  the root directory
 *   \ObjectTypes       one "Type" object per object type
 *   \Device            device objects
 *   \Driver            driver objects
 *   \GLOBAL??          the DOS device names (symbolic links such as \GLOBAL??\Edu0)
 *   \DosDevices        a symbolic link to \?? ; a name that starts with \??\ is looked up
 *                      in \GLOBAL?? (the model has no per-session DOS device directories)
 *   \BaseNamedObjects  named events and other objects; Global and Local in it link back to it
 *
 * Registered with the kernel as the "ob" service.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import type { KPROCESS } from "../ke/scheduler.js";
import { MM } from "../mm/manager.js";
import { OBJECT_DIRECTORY } from "./directory.js";
import { OBJECT_HEADER, OBJECT_HEADER_SIZE, OB_FLAG_PERMANENT_OBJECT } from "./header.js";
import { HANDLE_TABLE } from "./handle-table.js";
import { OBJECT_TYPES, PsProcessType, ObpDirectoryObjectType, ObpSymbolicLinkObjectType, ObpTypeObjectType, type OBJECT_TYPE } from "./object-type.js";
import { OBJECT_SYMBOLIC_LINK } from "./symbolic-link-object.js";

/** Where the object manager's objects get their kernel addresses (a range of its own, so other objects keep theirs). */
const OBJECT_SPACE_START = 0x818000000000;
/** Bytes of an x64 EPROCESS (for a process object's address). */
export const PROCESS_OBJECT_SIZE = 0x880;
/** Bytes reserved for a body the model keeps outside guest memory, for its address (an x64 KEVENT's size rounded up). */
const DEFAULT_BODY_SIZE = 0x20;

/** Objects and handles of one type on one machine (OBJECT_TYPE.TotalNumberOfObjects / TotalNumberOfHandles). */
export interface TypeCounts {
  TotalNumberOfObjects: number;
  TotalNumberOfHandles: number;
}

/** Object manager state of one machine. */
export class ObjectManager {
  private readonly headers = new WeakMap<object, OBJECT_HEADER>();
  private readonly tables = new WeakMap<KPROCESS, HANDLE_TABLE>();
  private readonly counts = new Map<OBJECT_TYPE, TypeCounts>();
  /** The root directory (\). */
  readonly root: OBJECT_DIRECTORY;
  /** The kernel handle table (ObpKernelHandleTable), which is also the System process's table. */
  readonly kernelHandles: HANDLE_TABLE;
  /** \GLOBAL??, where names beginning \??\ are looked up. */
  readonly dosDevices: OBJECT_DIRECTORY;

  private nextAddress = OBJECT_SPACE_START;

  constructor(readonly k: Kernel) {
    this.kernelHandles = new HANDLE_TABLE(true, this.allocateAddress(0x80));
    this.create(PsProcessType, MM(k).systemProcess, PROCESS_OBJECT_SIZE);
    this.root = this.directory(null, "\\");
    const types = this.directory(this.root, "ObjectTypes");
    for (const t of OBJECT_TYPES) this.permanent(types, t.Name, this.create(ObpTypeObjectType, t, 0xD8));
    this.directory(this.root, "Device");
    this.directory(this.root, "Driver");
    this.dosDevices = this.directory(this.root, "GLOBAL??");
    this.link(this.root, "DosDevices", "\\??");
    this.link(this.dosDevices, "Global", "\\GLOBAL??");
    const named = this.directory(this.root, "BaseNamedObjects");
    this.link(named, "Global", "\\BaseNamedObjects");
    this.link(named, "Local", "\\BaseNamedObjects");
  }

  /** A permanent directory `name` in `parent` (the root when parent is null). */
  private directory(parent: OBJECT_DIRECTORY | null, name: string): OBJECT_DIRECTORY {
    const d = new OBJECT_DIRECTORY();
    d.header = this.create(ObpDirectoryObjectType, d, 0x150);
    if (parent) this.permanent(parent, name, d.header);
    else {
      d.header.Name = name;
      d.header.Flags |= OB_FLAG_PERMANENT_OBJECT;
    }
    return d;
  }

  private link(parent: OBJECT_DIRECTORY, name: string, target: string): void {
    this.permanent(parent, name, this.create(ObpSymbolicLinkObjectType, new OBJECT_SYMBOLIC_LINK(target, this.k.cpu.time), 0x20));
  }

  private permanent(parent: OBJECT_DIRECTORY, name: string, h: OBJECT_HEADER): void {
    h.Flags |= OB_FLAG_PERMANENT_OBJECT;
    parent.insert(name, h);
  }

  /**
   * Makes `body` an object of `type` with one reference (the creator's) and no name.
   * `address` is the body's kernel address when it has one of its own (device and driver
   * objects); otherwise one is reserved for `bodySize` bytes behind a header.
   */
  create(type: OBJECT_TYPE, body: object, bodySize = DEFAULT_BODY_SIZE, address?: number): OBJECT_HEADER {
    const bodyAddress = address ?? this.allocateAddress(OBJECT_HEADER_SIZE + bodySize) + OBJECT_HEADER_SIZE;
    const h = new OBJECT_HEADER(type, body, bodyAddress);
    this.headers.set(body, h);
    this.countsOf(type).TotalNumberOfObjects++;
    return h;
  }

  /** The header of `body`, or undefined when it is not an object. */
  headerOf(body: object): OBJECT_HEADER | undefined {
    return this.headers.get(body);
  }

  /** What the machine counts for `type`. */
  countsOf(type: OBJECT_TYPE): TypeCounts {
    let c = this.counts.get(type);
    if (!c) this.counts.set(type, (c = { TotalNumberOfObjects: 0, TotalNumberOfHandles: 0 }));
    return c;
  }

  /** The kernel address of a type object (the type's own header is in \ObjectTypes). */
  typeAddress(type: OBJECT_TYPE): number {
    return this.headers.get(type)!.bodyAddress;
  }

  /** Gives `process` its handle table (a user process's EPROCESS.ObjectTable). */
  setHandleTable(process: KPROCESS, table: HANDLE_TABLE): void {
    this.tables.set(process, table);
  }

  /** The handle table of `process`: the kernel handle table for the System process. */
  handleTableOf(process: KPROCESS): HANDLE_TABLE {
    if (process === MM(this.k).systemProcess) return this.kernelHandles;
    let t = this.tables.get(process);
    if (!t) this.tables.set(process, (t = new HANDLE_TABLE(false, this.allocateAddress(0x80))));
    return t;
  }

  /** A kernel address for `size` bytes of the object manager's (16-byte aligned). */
  allocateAddress(size: number): number {
    const a = this.nextAddress;
    this.nextAddress += (size + 15) & ~15;
    return a;
  }
}

/** The executing machine's object manager (made, with its namespace, on first use). */
export function OB(k: Kernel = KE()): ObjectManager {
  if (k === lastKernel) return lastOb!;
  let ob = k.services.get("ob") as ObjectManager | undefined;
  if (!ob) k.services.set("ob", (ob = new ObjectManager(k)));
  lastKernel = k;
  lastOb = ob;
  return ob;
}

// The last kernel asked about and its object manager.
let lastKernel: Kernel | undefined;
let lastOb: ObjectManager | undefined;
