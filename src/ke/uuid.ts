/**
 * ExUuidCreate: a new UUID (GUID) for the caller. The machine makes it from its seeded
 * random generator, so a run gives the same UUIDs every time it is replayed with the same
 * seed; each is a version-4 (random) UUID of the RFC 4122 variant.
 */
import { KE } from "./kernel.js";
import { STATUS_SUCCESS, type NTSTATUS } from "./ntstatus.js";

const hex = (value: number, digits: number): string => (value >>> 0).toString(16).padStart(digits, "0");

/** ExUuidCreate: { status STATUS_SUCCESS, Uuid "{xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx}" } (the C routine's UUID out-parameter). PASSIVE_LEVEL. */
export function ExUuidCreate(): { status: NTSTATUS; Uuid: string } {
  const core = KE().x;
  const a = core.random() >>> 0;
  const b = core.random() >>> 0;
  const c = core.random() >>> 0;
  const d = core.random() >>> 0;
  const version = ((b & 0x0FFF) | 0x4000) >>> 0;
  const variant = (((c >>> 16) & 0x3FFF) | 0x8000) >>> 0;
  const Uuid = `{${hex(a, 8)}-${hex(b >>> 16, 4)}-${hex(version, 4)}-${hex(variant, 4)}-${hex(c & 0xFFFF, 4)}${hex(d, 8)}}`;
  return { status: STATUS_SUCCESS, Uuid };
}
