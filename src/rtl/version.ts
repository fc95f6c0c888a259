/**
 * The operating system's version as drivers query it: RtlGetVersion, RtlVerifyVersionInfo
 * and VerSetConditionMask (VER_SET_CONDITION). The machine runs Windows 10 (10.0, build
 * 19041, a workstation).
 */
import { STATUS_INVALID_PARAMETER, STATUS_REVISION_MISMATCH, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";

/** The version the machine reports. */
export const OS_MAJOR_VERSION = 10;
export const OS_MINOR_VERSION = 0;
export const OS_BUILD_NUMBER = 19041;
/** VER_PLATFORM_WIN32_NT. */
export const VER_PLATFORM_WIN32_NT = 2;
/** VER_NT_WORKSTATION. */
export const VER_NT_WORKSTATION = 1;

// TypeMask bits.
export const VER_MINORVERSION = 0x0000001;
export const VER_MAJORVERSION = 0x0000002;
export const VER_BUILDNUMBER = 0x0000004;
export const VER_PLATFORMID = 0x0000008;
export const VER_SERVICEPACKMINOR = 0x0000010;
export const VER_SERVICEPACKMAJOR = 0x0000020;
export const VER_SUITENAME = 0x0000040;
export const VER_PRODUCT_TYPE = 0x0000080;

// Conditions.
export const VER_EQUAL = 1;
export const VER_GREATER = 2;
export const VER_GREATER_EQUAL = 3;
export const VER_LESS = 4;
export const VER_LESS_EQUAL = 5;
export const VER_AND = 6;
export const VER_OR = 7;

/** RTL_OSVERSIONINFOEXW (the fields RtlVerifyVersionInfo compares). */
export class RTL_OSVERSIONINFOEXW {
  dwOSVersionInfoSize = 284;
  dwMajorVersion = 0;
  dwMinorVersion = 0;
  dwBuildNumber = 0;
  dwPlatformId = 0;
  szCSDVersion = "";
  wServicePackMajor = 0;
  wServicePackMinor = 0;
  wSuiteMask = 0;
  wProductType = 0;
}

/** RtlGetVersion: the machine's version (the C out-parameter). Returns STATUS_SUCCESS and the structure. */
export function RtlGetVersion(): { status: NTSTATUS; VersionInformation: RTL_OSVERSIONINFOEXW } {
  const v = new RTL_OSVERSIONINFOEXW();
  v.dwMajorVersion = OS_MAJOR_VERSION;
  v.dwMinorVersion = OS_MINOR_VERSION;
  v.dwBuildNumber = OS_BUILD_NUMBER;
  v.dwPlatformId = VER_PLATFORM_WIN32_NT;
  v.wProductType = VER_NT_WORKSTATION;
  return { status: STATUS_SUCCESS, VersionInformation: v };
}

/** The bit index of a single TypeMask bit. */
function typeIndex(TypeMask: number): number {
  return 31 - Math.clz32(TypeMask);
}

/**
 * VerSetConditionMask(ConditionMask, TypeMask, Condition) — VER_SET_CONDITION: the mask
 * with `Condition` recorded for the one type bit `TypeMask` (three bits per type).
 * ULONGLONG as a bigint.
 */
export function VerSetConditionMask(ConditionMask: bigint, TypeMask: number, Condition: number): bigint {
  if (TypeMask === 0 || (TypeMask & (TypeMask - 1)) !== 0) return ConditionMask;
  const shift = BigInt(typeIndex(TypeMask) * 3);
  return (ConditionMask & ~(7n << shift)) | (BigInt(Condition & 7) << shift);
}

/** VER_SET_CONDITION(ConditionMask, TypeBitMask, ComparisonType): VerSetConditionMask, returned (the macro assigns it). */
export const VER_SET_CONDITION = VerSetConditionMask;

function conditionOf(ConditionMask: bigint, TypeMask: number): number {
  return Number((ConditionMask >> BigInt(typeIndex(TypeMask) * 3)) & 7n);
}

function compare(actual: number, wanted: number, condition: number): boolean {
  switch (condition) {
    case VER_EQUAL: return actual === wanted;
    case VER_GREATER: return actual > wanted;
    case VER_GREATER_EQUAL: return actual >= wanted;
    case VER_LESS: return actual < wanted;
    case VER_LESS_EQUAL: return actual <= wanted;
    default: return false;
  }
}

/**
 * RtlVerifyVersionInfo(VersionInfo, TypeMask, ConditionMask): STATUS_SUCCESS when the
 * machine's version meets every condition of TypeMask, STATUS_REVISION_MISMATCH when it
 * does not, STATUS_INVALID_PARAMETER for an empty TypeMask or a type with no condition.
 * Major version, minor version and service pack are compared together, most significant
 * first, with the major version's condition (as Windows does when both are given).
 */
export function RtlVerifyVersionInfo(VersionInfo: RTL_OSVERSIONINFOEXW, TypeMask: number, ConditionMask: bigint): NTSTATUS {
  if (TypeMask === 0) return STATUS_INVALID_PARAMETER;
  const actual = RtlGetVersion().VersionInformation;
  const ordered: [number, number, number][] = [
    [VER_MAJORVERSION, actual.dwMajorVersion, VersionInfo.dwMajorVersion],
    [VER_MINORVERSION, actual.dwMinorVersion, VersionInfo.dwMinorVersion],
    [VER_SERVICEPACKMAJOR, actual.wServicePackMajor, VersionInfo.wServicePackMajor],
    [VER_SERVICEPACKMINOR, actual.wServicePackMinor, VersionInfo.wServicePackMinor],
  ];
  const chain = ordered.filter(([bit]) => (TypeMask & bit) !== 0);
  if (chain.length > 0) {
    const condition = conditionOf(ConditionMask, chain[0][0]);
    if (condition === 0) return STATUS_INVALID_PARAMETER;
    let decided: boolean | null = null;
    for (const [, a, w] of chain) {
      if (a !== w) {
        decided = compare(a, w, condition);
        break;
      }
    }
    if (!(decided ?? compare(0, 0, condition))) return STATUS_REVISION_MISMATCH;
  }
  const singles: [number, number, number][] = [
    [VER_BUILDNUMBER, actual.dwBuildNumber, VersionInfo.dwBuildNumber],
    [VER_PLATFORMID, actual.dwPlatformId, VersionInfo.dwPlatformId],
    [VER_PRODUCT_TYPE, actual.wProductType, VersionInfo.wProductType],
  ];
  for (const [bit, a, w] of singles) {
    if ((TypeMask & bit) === 0) continue;
    const condition = conditionOf(ConditionMask, bit);
    if (condition === 0) return STATUS_INVALID_PARAMETER;
    if (!compare(a, w, condition)) return STATUS_REVISION_MISMATCH;
  }
  return STATUS_SUCCESS;
}
