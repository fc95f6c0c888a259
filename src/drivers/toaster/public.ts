/**
 * What the toaster family shares with its users: interface and class GUIDs, the bus
 * driver's I/O control codes and the layouts of their buffers, and the IDs the bus
 * gives the toasters it plugs in.
 */
import { CTL_CODE, METHOD_BUFFERED } from "../../io/ioctl.js";
import { FILE_READ_DATA } from "../../ob/access.js";
import { FILE_DEVICE_BUS_EXTENDER } from "../../io/objects.js";

/** Device interface the toaster bus registers (user mode finds the bus by it). */
export const GUID_DEVINTERFACE_BUSENUM_TOASTER = "{d35f7840-6a0c-11d2-b841-00c04fad5171}";
/** Device interface every toaster registers. */
export const GUID_DEVINTERFACE_TOASTER = "{781ef630-72b2-11d2-b852-00c04fad5171}";
/** The Toaster setup class. */
export const GUID_DEVCLASS_TOASTER = "{b85b7c50-6a01-11d2-b841-00c04fad5171}";
/** The bus's direct-call interface for its children (IRP_MN_QUERY_INTERFACE). */
export const GUID_TOASTER_INTERFACE_STANDARD = "{e0b27630-5434-11d3-b890-00c04fad5171}";

/** Hardware ID of the toasters the bus plugs in (the request may name others). */
export const BUS_HARDWARE_IDS = "{B85B7C50-6A01-11d2-B841-00C04FAD5171}\\MsToaster";
/** Compatible ID of every toaster the bus plugs in. */
export const BUSENUM_COMPATIBLE_IDS = "{B85B7C50-6A01-11d2-B841-00C04FAD5171}\\MsCompatibleToaster";

/** Device type of the bus's control codes. */
export const FILE_DEVICE_BUSENUM = FILE_DEVICE_BUS_EXTENDER;
/** BUSENUM_IOCTL(index). */
export function BUSENUM_IOCTL(index: number): number {
  return CTL_CODE(FILE_DEVICE_BUSENUM, index, METHOD_BUFFERED, FILE_READ_DATA);
}
/** Plugs in a toaster: input BUSENUM_PLUGIN_HARDWARE. */
export const IOCTL_BUSENUM_PLUGIN_HARDWARE = BUSENUM_IOCTL(0x0);
/** Unplugs a toaster (serial 0: all of them) without warning: input BUSENUM_UNPLUG_HARDWARE. */
export const IOCTL_BUSENUM_UNPLUG_HARDWARE = BUSENUM_IOCTL(0x1);
/** Asks for a toaster's ejection: input BUSENUM_EJECT_HARDWARE. */
export const IOCTL_BUSENUM_EJECT_HARDWARE = BUSENUM_IOCTL(0x2);
/** Sent to a toaster: hide it from the user interface (PNP_DEVICE_DONT_DISPLAY_IN_UI). */
export const IOCTL_TOASTER_DONT_DISPLAY_IN_UI_DEVICE = BUSENUM_IOCTL(0x3);

/** sizeof(BUSENUM_PLUGIN_HARDWARE): ULONG Size, ULONG SerialNo, then WCHAR HardwareIDs[] (a multi-string). */
export const BUSENUM_PLUGIN_HARDWARE_SIZE = 8;
/** sizeof(BUSENUM_UNPLUG_HARDWARE) and sizeof(BUSENUM_EJECT_HARDWARE): ULONG Size, ULONG SerialNo, ULONG Reserved[2]. */
export const BUSENUM_UNPLUG_HARDWARE_SIZE = 16;

/** BUSENUM_PLUGIN_HARDWARE as bytes: the header then the IDs as a UTF-16LE multi-string. */
export function encodePlugin(serialNo: number, hardwareIds: string[] = [BUS_HARDWARE_IDS]): Uint8Array {
  const text = hardwareIds.map((id) => `${id}\0`).join("") + "\0";
  const bytes = new Uint8Array(BUSENUM_PLUGIN_HARDWARE_SIZE + text.length * 2);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, BUSENUM_PLUGIN_HARDWARE_SIZE, true);
  view.setUint32(4, serialNo, true);
  for (let i = 0; i < text.length; i++) view.setUint16(BUSENUM_PLUGIN_HARDWARE_SIZE + 2 * i, text.charCodeAt(i), true);
  return bytes;
}

/** BUSENUM_UNPLUG_HARDWARE / BUSENUM_EJECT_HARDWARE as bytes. */
export function encodeUnplug(serialNo: number): Uint8Array {
  const bytes = new Uint8Array(BUSENUM_UNPLUG_HARDWARE_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, BUSENUM_UNPLUG_HARDWARE_SIZE, true);
  view.setUint32(4, serialNo, true);
  return bytes;
}

/** Reads a UTF-16LE multi-string (strings ended by NUL, the list by an empty one) from `bytes`. */
export function decodeMultiString(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let current = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const c = view.getUint16(i, true);
    if (c !== 0) {
      current += String.fromCharCode(c);
      continue;
    }
    if (current === "") break;
    out.push(current);
    current = "";
  }
  return out;
}
