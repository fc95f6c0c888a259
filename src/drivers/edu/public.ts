/**
 * The edu driver's interface to user mode (what a C driver keeps in its public header):
 * the device name, the I/O control codes and their buffer layouts.
 */
import { CTL_CODE, FILE_ANY_ACCESS, FILE_READ_ACCESS, FILE_WRITE_ACCESS, METHOD_BUFFERED } from "../../io/ioctl.js";
import { FILE_DEVICE_UNKNOWN } from "../../io/objects.js";

/** Name user mode opens. */
export const EDU_USER_DEVICE_NAME = "\\\\.\\Edu0";

/** Out: ULONG identification register (0x010000ED for version 1.0). */
export const IOCTL_EDU_GET_IDENTIFICATION = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_READ_ACCESS);
/** In: ULONG value; out: ULONG the device's liveness register (the bitwise NOT of the value). */
export const IOCTL_EDU_CHECK_LIVENESS = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** In: ULONG n; out: ULONG n! in 32-bit arithmetic. The request completes from the device's interrupt. */
export const IOCTL_EDU_COMPUTE_FACTORIAL = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** In: EDU_DMA_REQUEST header then Length bytes, DMA'd into the device buffer at DeviceOffset. */
export const IOCTL_EDU_DMA_TO_DEVICE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x803, METHOD_BUFFERED, FILE_WRITE_ACCESS);
/** In: EDU_DMA_REQUEST header; out: Length bytes DMA'd from the device buffer at DeviceOffset. */
export const IOCTL_EDU_DMA_FROM_DEVICE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x804, METHOD_BUFFERED, FILE_READ_ACCESS);

/** EDU_DMA_REQUEST: ULONG DeviceOffset; ULONG Length (8 bytes, little-endian). */
export const EDU_DMA_REQUEST_SIZE = 8;
/** Bytes of the device's DMA buffer. */
export const EDU_DMA_BUFFER_SIZE = 4096;

/** Builds an EDU_DMA_REQUEST followed by `data`. */
export function eduDmaRequest(deviceOffset: number, length: number, data?: Uint8Array): Uint8Array {
  const out = new Uint8Array(EDU_DMA_REQUEST_SIZE + (data?.length ?? 0));
  const v = new DataView(out.buffer);
  v.setUint32(0, deviceOffset, true);
  v.setUint32(4, length, true);
  if (data) out.set(data, EDU_DMA_REQUEST_SIZE);
  return out;
}
