/**
 * Logical units (RAID_UNIT_EXTENSION): one per path/target/LUN the bus scan found. A unit
 * has its own request queue with a queue depth, its identity from INQUIRY (vendor,
 * product, revision, serial number, device identifiers), the miniport's per-unit extension,
 * and, once reported to the PnP manager, a PDO named and identified as Windows names
 * storage units (SCSI\Disk&Ven_..., GenDisk).
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import type { IRP } from "../../io/irp.js";
import { DIRECT_ACCESS_DEVICE, INQUIRY_PRODUCT_ID, INQUIRY_PRODUCT_REVISION, INQUIRY_VENDOR_ID } from "../storage/scsi.js";
import type { PVOID_EXTENSION } from "./storport.js";
import type { RAID_ADAPTER_EXTENSION } from "./adapter.js";
import type { RAID_REQUEST } from "./request.js";

/** A FIFO of IRPs waiting to start (a ring that grows; no allocation once warm). */
export class IrpQueue {
  private items: (IRP | null)[] = new Array(16).fill(null);
  private head = 0;
  length = 0;

  private grow(): void {
    if (this.length < this.items.length) return;
    const bigger: (IRP | null)[] = new Array(this.items.length * 2).fill(null);
    for (let i = 0; i < this.length; i++) bigger[i] = this.items[(this.head + i) % this.items.length];
    this.items = bigger;
    this.head = 0;
  }

  push(irp: IRP): void {
    this.grow();
    this.items[(this.head + this.length) % this.items.length] = irp;
    this.length++;
  }

  /** Puts an IRP back at the head (it could not start after all). */
  unshift(irp: IRP): void {
    this.grow();
    this.head = (this.head + this.items.length - 1) % this.items.length;
    this.items[this.head] = irp;
    this.length++;
  }

  shift(): IRP | null {
    if (this.length === 0) return null;
    const irp = this.items[this.head];
    this.items[this.head] = null;
    this.head = (this.head + 1) % this.items.length;
    this.length--;
    return irp;
  }

  /** The i-th waiting IRP (0 = next). */
  at(i: number): IRP | null {
    return i < this.length ? this.items[(this.head + i) % this.items.length] : null;
  }

  /** Removes the i-th waiting IRP. */
  removeAt(i: number): IRP | null {
    if (i >= this.length) return null;
    const n = this.items.length;
    const irp = this.items[(this.head + i) % n];
    for (let j = i; j < this.length - 1; j++) this.items[(this.head + j) % n] = this.items[(this.head + j + 1) % n];
    this.items[(this.head + this.length - 1) % n] = null;
    this.length--;
    return irp;
  }
}

/** What INQUIRY and the VPD pages said about a unit. */
export class UnitIdentity {
  /** Standard INQUIRY data as returned (36 bytes or more). */
  InquiryData: Uint8Array = new Uint8Array(0);
  /** Peripheral device type (byte 0 bits 4:0). */
  DeviceType = DIRECT_ACCESS_DEVICE;
  Removable = false;
  /** Vendor (8), product (16) and revision (4) as in the INQUIRY data, space padded. */
  Vendor = "";
  Product = "";
  Revision = "";
  /** VPD 0x80 product serial number (trimmed). */
  SerialNumber = "";
  /** VPD 0x83 page as returned. */
  DeviceIdentifiers: Uint8Array = new Uint8Array(0);
  /** VPD pages the unit supports. */
  SupportedVpdPages: number[] = [];
}

/** Reads an ASCII field of INQUIRY data. */
function ascii(b: Uint8Array, offset: number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(b[offset + i] ?? 0x20);
  return s;
}

/** Fills the vendor, product and revision fields from standard INQUIRY data. */
export function parseInquiry(identity: UnitIdentity, data: Uint8Array): void {
  identity.InquiryData = data;
  identity.DeviceType = data[0] & 0x1F;
  identity.Removable = (data[1] & 0x80) !== 0;
  identity.Vendor = ascii(data, INQUIRY_VENDOR_ID, 8);
  identity.Product = ascii(data, INQUIRY_PRODUCT_ID, 16);
  identity.Revision = ascii(data, INQUIRY_PRODUCT_REVISION, 4);
}

/** A logical unit: the PDO's device extension. */
export class RAID_UNIT_EXTENSION {
  readonly IsAdapter = false;
  /** The PDO, once the unit has been reported (null while only scanned). */
  DeviceObject: DEVICE_OBJECT | null = null;
  readonly Identity = new UnitIdentity();
  /** The miniport's per-unit extension (SpecificLuExtensionSize). */
  LuExtension: PVOID_EXTENSION = null;
  /** Requests waiting to start, in order. */
  readonly Pending = new IrpQueue();
  /** Requests started and not yet completed (doubly linked through the requests). */
  OutstandingHead: RAID_REQUEST | null = null;
  Outstanding = 0;
  /** Requests the unit may have outstanding at once. */
  QueueDepth = 20;
  /** Set when a request failed without SRB_FLAGS_NO_QUEUE_FREEZE; SRB_FUNCTION_RELEASE_QUEUE clears it. */
  Frozen = false;
  /** SRB_FUNCTION_LOCK_QUEUE / UNLOCK_QUEUE. */
  Locked = false;
  /** StorPortPauseDevice: new requests wait until this time, ps (0 = not paused). */
  PausedUntilPs = 0;
  /** StorPortDeviceBusy: requests still to complete before new ones start. */
  BusyRequestsToComplete = 0;
  /** Still listed by the last bus scan. */
  Present = true;
  /** Reported to the PnP manager (in BusRelations) at least once. */
  Reported = false;
  /** IRP_MN_START_DEVICE succeeded and no removal since. */
  Started = false;
  /** Surprise-removed or removed: requests fail with SRB_STATUS_NO_DEVICE. */
  Removed = false;
  /** The class driver that claimed the unit (SRB_FUNCTION_CLAIM_DEVICE). */
  ClaimedBy: DEVICE_OBJECT | null = null;
  /** Device power state (1 = D0). */
  DevicePowerState = 1;
  /** Requests the unit completed, and bytes moved (for reports). */
  Completed = 0;

  constructor(readonly Adapter: RAID_ADAPTER_EXTENSION, readonly PathId: number, readonly TargetId: number, readonly Lun: number) {}
}

/** An INQUIRY field as Windows puts it in a device ID: trailing spaces dropped, others and unprintable characters as '_'. */
function idField(s: string, trim: boolean): string {
  const t = trim ? s.replace(/ +$/, "") : s;
  let out = "";
  for (const c of t) out += c <= " " || c > "~" || c === "," ? "_" : c;
  return out;
}

/** The SCSI device type name Windows uses in unit IDs (disks). */
const DEVICE_TYPE_NAMES: Record<number, string> = { 0x00: "Disk", 0x01: "Sequential", 0x05: "CdRom", 0x07: "Optical", 0x0C: "Array", 0x0D: "Enclosure" };

/** The generic ID of a device type (the ID class drivers bind to). */
const GENERIC_IDS: Record<number, string> = { 0x00: "GenDisk", 0x01: "GenSequential", 0x05: "GenCdRom", 0x07: "GenOptical" };

/** The device type's name in IDs ("Disk"), or "Other". */
export function deviceTypeName(type: number): string {
  return DEVICE_TYPE_NAMES[type] ?? "Other";
}

/** BusQueryDeviceID: SCSI\Disk&Ven_<vendor>&Prod_<product>. */
export function unitDeviceId(u: RAID_UNIT_EXTENSION): string {
  const i = u.Identity;
  return `SCSI\\${deviceTypeName(i.DeviceType)}&Ven_${idField(i.Vendor, true)}&Prod_${idField(i.Product, true)}`;
}

/** BusQueryHardwareIDs, most specific first, ending with the generic ID. */
export function unitHardwareIds(u: RAID_UNIT_EXTENSION): string[] {
  const i = u.Identity;
  const type = deviceTypeName(i.DeviceType);
  const v = idField(i.Vendor, false);
  const p = idField(i.Product, false);
  const r = idField(i.Revision, false);
  const ids = [`SCSI\\${type}${v}${p}${r}`, `SCSI\\${type}${v}${p}`, `SCSI\\${type}${v}`, `SCSI\\${v}${p}${r.slice(0, 1)}`, `${v}${p}${r.slice(0, 1)}`];
  const generic = GENERIC_IDS[i.DeviceType];
  if (generic) ids.push(generic);
  return ids;
}

/** BusQueryCompatibleIDs: SCSI\<type>, SCSI\RAW. */
export function unitCompatibleIds(u: RAID_UNIT_EXTENSION): string[] {
  return [`SCSI\\${deviceTypeName(u.Identity.DeviceType)}`, "SCSI\\RAW"];
}

/** BusQueryInstanceID: path, target and LUN, two hex digits each. */
export function unitInstanceId(u: RAID_UNIT_EXTENSION): string {
  const h = (n: number) => n.toString(16).padStart(2, "0");
  return `${h(u.PathId)}${h(u.TargetId)}${h(u.Lun)}`;
}

/** DeviceTextDescription: "<vendor> <product> SCSI Disk Device" (no suffix with STOR_FEATURE_DEVICE_NAME_NO_SUFFIX). */
export function unitDescription(u: RAID_UNIT_EXTENSION, noSuffix: boolean): string {
  const i = u.Identity;
  const name = `${i.Vendor.trim()} ${i.Product.trim()}`.trim();
  return noSuffix ? name : `${name} SCSI ${deviceTypeName(i.DeviceType)} Device`;
}

/** DeviceTextLocationInformation. */
export function unitLocation(u: RAID_UNIT_EXTENSION): string {
  return `Bus Number ${u.PathId}, Target Id ${u.TargetId}, LUN ${u.Lun}`;
}
