// The device paths of a device interface class, as a program finds them with SetupDi.
import { DIGCF_DEVICEINTERFACE, DIGCF_PRESENT, SetupDiEnumDeviceInterfaces, SetupDiGetClassDevs, SetupDiGetDeviceInterfaceDetail, type HDEVINFO } from "../../src/io/usermode.js";

/** The device paths of the present interfaces of class `guid` (call from a program). */
export function interfacePaths(guid: string): string[] {
  const set = SetupDiGetClassDevs(guid, null, null, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE) as HDEVINFO;
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const { ok, DeviceInterfaceData } = SetupDiEnumDeviceInterfaces(set, null, guid, i);
    if (!ok || !DeviceInterfaceData) break;
    out.push(SetupDiGetDeviceInterfaceDetail(set, DeviceInterfaceData).DevicePath);
  }
  return out;
}
