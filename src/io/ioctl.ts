/** I/O control codes: CTL_CODE and its transfer methods and access bits. */

export const METHOD_BUFFERED = 0;
export const METHOD_IN_DIRECT = 1;
export const METHOD_OUT_DIRECT = 2;
export const METHOD_NEITHER = 3;

export const FILE_ANY_ACCESS = 0;
export const FILE_READ_ACCESS = 1;
export const FILE_WRITE_ACCESS = 2;
export { FILE_READ_DATA, FILE_WRITE_DATA } from "../ob/access.js";

/** CTL_CODE(DeviceType, Function, Method, Access) = type << 16 | access << 14 | function << 2 | method. */
export function CTL_CODE(DeviceType: number, Function: number, Method: number, Access: number): number {
  return ((DeviceType << 16) | (Access << 14) | (Function << 2) | Method) >>> 0;
}

/** The transfer method of an I/O control code. */
export function METHOD_FROM_CTL_CODE(ControlCode: number): number {
  return ControlCode & 3;
}

/** The device type of an I/O control code. */
export function DEVICE_TYPE_FROM_CTL_CODE(ControlCode: number): number {
  return (ControlCode >>> 16) & 0xFFFF;
}
