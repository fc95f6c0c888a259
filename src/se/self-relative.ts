/**
 * Security descriptors in their self-relative binary form (SECURITY_DESCRIPTOR_RELATIVE):
 * what the registry stores as a REG_BINARY "Security" value and what
 * SetupDiSetDeviceRegistryProperty(SPDRP_SECURITY) takes. The 20-byte header (Revision 1,
 * Control with SE_SELF_RELATIVE, offsets of owner, group, SACL and DACL; 0 for none) is
 * followed by the DACL (an ACL of revision 2: AclSize, AceCount, then each ACE's header
 * — AceType, AceFlags, AceSize — its Mask and its SID), the owner and the group, each SID
 * as Revision 1, SubAuthorityCount, a 6-byte big-endian IdentifierAuthority and its
 * 32-bit sub-authorities.
 */
import type { SID } from "./sid.js";
import { SE_DACL_PRESENT, type ACE, type SECURITY_DESCRIPTOR } from "./security-descriptor.js";

/** SECURITY_DESCRIPTOR_CONTROL: the descriptor is in self-relative form. */
export const SE_SELF_RELATIVE = 0x8000;
/** SECURITY_DESCRIPTOR_REVISION. */
const SECURITY_DESCRIPTOR_REVISION = 1;
/** ACL_REVISION. */
const ACL_REVISION = 2;
/** SID_REVISION. */
const SID_REVISION = 1;
/** Bytes of SECURITY_DESCRIPTOR_RELATIVE, of an ACL header, of an ACE's header and mask. */
const SD_HEADER = 20;
const ACL_HEADER = 8;
const ACE_FIXED = 8;

/** A SID's bytes. */
function sidBytes(sid: SID): Uint8Array {
  const parts = sid.split("-").slice(1).map(Number);
  const [, authority, ...subs] = parts;
  const b = new Uint8Array(8 + 4 * subs.length);
  const v = new DataView(b.buffer);
  b[0] = SID_REVISION;
  b[1] = subs.length;
  // IdentifierAuthority: 48 bits, big-endian.
  v.setUint16(2, Math.floor(authority / 2 ** 32));
  v.setUint32(4, authority >>> 0);
  subs.forEach((s, i) => v.setUint32(8 + 4 * i, s >>> 0, true));
  return b;
}

/** The SID at `at` and its length, or null when it does not fit. */
function sidAt(v: DataView, at: number): { sid: SID; length: number } | null {
  if (at + 8 > v.byteLength || v.getUint8(at) !== SID_REVISION) return null;
  const count = v.getUint8(at + 1);
  const length = 8 + 4 * count;
  if (at + length > v.byteLength) return null;
  const authority = v.getUint16(at + 2) * 2 ** 32 + v.getUint32(at + 4);
  const subs = Array.from({ length: count }, (_, i) => v.getUint32(at + 8 + 4 * i, true));
  return { sid: ["S", SID_REVISION, authority, ...subs].join("-"), length };
}

/** RtlMakeSelfRelativeSD: the descriptor's self-relative bytes (the DACL, then the owner and the group). */
export function makeSelfRelativeSD(sd: SECURITY_DESCRIPTOR): Uint8Array {
  const aces = (sd.Dacl ?? []).map((a) => ({ a, sid: sidBytes(a.Sid) }));
  const aclSize = sd.Dacl ? ACL_HEADER + aces.reduce((n, e) => n + ACE_FIXED + e.sid.length, 0) : 0;
  const owner = sd.Owner ? sidBytes(sd.Owner) : null;
  const group = sd.Group ? sidBytes(sd.Group) : null;
  const out = new Uint8Array(SD_HEADER + aclSize + (owner?.length ?? 0) + (group?.length ?? 0));
  const v = new DataView(out.buffer);
  let at = SD_HEADER;
  out[0] = SECURITY_DESCRIPTOR_REVISION;
  v.setUint16(2, (sd.Control | SE_SELF_RELATIVE) & 0xFFFF, true);
  if (sd.Dacl) {
    v.setUint32(16, at, true);
    out[at] = ACL_REVISION;
    v.setUint16(at + 2, aclSize, true);
    v.setUint16(at + 4, aces.length, true);
    at += ACL_HEADER;
    for (const { a, sid } of aces) {
      out[at] = a.AceType;
      out[at + 1] = a.AceFlags;
      v.setUint16(at + 2, ACE_FIXED + sid.length, true);
      v.setUint32(at + 4, a.Mask >>> 0, true);
      out.set(sid, at + ACE_FIXED);
      at += ACE_FIXED + sid.length;
    }
  }
  if (owner) {
    v.setUint32(4, at, true);
    out.set(owner, at);
    at += owner.length;
  }
  if (group) {
    v.setUint32(8, at, true);
    out.set(group, at);
  }
  return out;
}

/** The descriptor in self-relative `bytes`, or null when they are not a valid one. */
export function parseSelfRelativeSD(bytes: Uint8Array): SECURITY_DESCRIPTOR | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < SD_HEADER || bytes[0] !== SECURITY_DESCRIPTOR_REVISION) return null;
  const control = v.getUint16(2, true);
  if ((control & SE_SELF_RELATIVE) === 0) return null;
  const sidOf = (offset: number): SID | null | undefined => (offset === 0 ? null : sidAt(v, offset)?.sid);
  const Owner = sidOf(v.getUint32(4, true));
  const Group = sidOf(v.getUint32(8, true));
  if (Owner === undefined || Group === undefined) return null;
  let Dacl: ACE[] | null = null;
  const daclAt = v.getUint32(16, true);
  if ((control & SE_DACL_PRESENT) !== 0 && daclAt !== 0) {
    if (daclAt + ACL_HEADER > bytes.length || bytes[daclAt] !== ACL_REVISION) return null;
    const count = v.getUint16(daclAt + 4, true);
    Dacl = [];
    let at = daclAt + ACL_HEADER;
    for (let i = 0; i < count; i++) {
      if (at + ACE_FIXED > bytes.length) return null;
      const size = v.getUint16(at + 2, true);
      const sid = sidAt(v, at + ACE_FIXED);
      if (!sid || size < ACE_FIXED + sid.length) return null;
      Dacl.push({ AceType: bytes[at], AceFlags: bytes[at + 1], Mask: v.getUint32(at + 4, true), Sid: sid.sid });
      at += size;
    }
  }
  return { Control: control & ~SE_SELF_RELATIVE, Owner, Group, Dacl };
}
