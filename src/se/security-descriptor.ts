/**
 * Security descriptors: an owner, a group and a discretionary ACL of access-allowed and
 * access-denied entries, parsed from the Security Descriptor Definition Language (SDDL)
 * as IoCreateDeviceSecure and the registry take it: `O:<sid>`, `G:<sid>`,
 * `D:<flags>(<ace>)...` where an ACE is `(<type>;<flags>;<rights>;<object guid>;<inherit
 * object guid>;<sid>)`. Types A (allow) and D (deny); rights as two-letter codes (GA GR GW
 * GX, RC SD WD WO, FA FR FW FX, KA KR KW KX) or a number (0x1F01FF); SIDs as aliases
 * (SY BA BU WD AU ...) or S-1-... strings. `D:NO_ACCESS_CONTROL` is a null DACL (everyone
 * gets everything); `D:P` with no ACE an empty one (no one gets anything).
 */
import {
  FILE_ALL_ACCESS, FILE_GENERIC_EXECUTE, FILE_GENERIC_READ, FILE_GENERIC_WRITE, GENERIC_ALL, GENERIC_EXECUTE, GENERIC_READ, GENERIC_WRITE,
  READ_CONTROL, DELETE, WRITE_DAC, WRITE_OWNER, type ACCESS_MASK,
} from "../ob/access.js";
import { isSid, SDDL_SID_ALIASES, type SID } from "./sid.js";

/** ACE types. */
export const ACCESS_ALLOWED_ACE_TYPE = 0x0;
export const ACCESS_DENIED_ACE_TYPE = 0x1;

// ACE flags.
export const OBJECT_INHERIT_ACE = 0x1;
export const CONTAINER_INHERIT_ACE = 0x2;
export const NO_PROPAGATE_INHERIT_ACE = 0x4;
export const INHERIT_ONLY_ACE = 0x8;
export const INHERITED_ACE = 0x10;

// SECURITY_DESCRIPTOR_CONTROL bits.
export const SE_DACL_PRESENT = 0x0004;
export const SE_DACL_PROTECTED = 0x1000;
export const SE_DACL_AUTO_INHERITED = 0x0400;
export const SE_DACL_AUTO_INHERIT_REQ = 0x0100;

/** An access-control entry. */
export interface ACE {
  /** ACCESS_ALLOWED_ACE_TYPE or ACCESS_DENIED_ACE_TYPE. */
  AceType: number;
  AceFlags: number;
  Mask: ACCESS_MASK;
  Sid: SID;
}

/** A security descriptor. */
export interface SECURITY_DESCRIPTOR {
  /** SE_DACL_PRESENT, SE_DACL_PROTECTED, ... */
  Control: number;
  Owner: SID | null;
  Group: SID | null;
  /** The DACL's entries in order; null for a null DACL (no access control). */
  Dacl: ACE[] | null;
}

/** SDDL's two-letter rights. */
const RIGHTS: Readonly<Record<string, ACCESS_MASK>> = {
  GA: GENERIC_ALL, GR: GENERIC_READ, GW: GENERIC_WRITE, GX: GENERIC_EXECUTE,
  RC: READ_CONTROL, SD: DELETE, WD: WRITE_DAC, WO: WRITE_OWNER,
  FA: FILE_ALL_ACCESS, FR: FILE_GENERIC_READ, FW: FILE_GENERIC_WRITE, FX: FILE_GENERIC_EXECUTE,
  KA: 0xF003F, KR: 0x20019, KW: 0x20006, KX: 0x20019,
};

/** SDDL's ACE flags. */
const ACE_FLAGS: Readonly<Record<string, number>> = {
  OI: OBJECT_INHERIT_ACE, CI: CONTAINER_INHERIT_ACE, NP: NO_PROPAGATE_INHERIT_ACE, IO: INHERIT_ONLY_ACE, ID: INHERITED_ACE,
};

/** A mistake in an SDDL string (the message says where). */
export class SddlError extends Error {}

function sidOf(text: string): SID {
  const alias = SDDL_SID_ALIASES[text.toUpperCase()];
  if (alias) return alias;
  if (isSid(text)) return text.toUpperCase();
  throw new SddlError(`"${text}" is not a SID or a SID alias`);
}

function pairs(text: string, table: Readonly<Record<string, number>>, what: string): number {
  if (text.length % 2 !== 0) throw new SddlError(`${what} "${text}" is not a list of two-letter codes`);
  let v = 0;
  for (let i = 0; i < text.length; i += 2) {
    const code = table[text.slice(i, i + 2).toUpperCase()];
    if (code === undefined) throw new SddlError(`unknown ${what} "${text.slice(i, i + 2)}"`);
    v |= code;
  }
  return v >>> 0;
}

function rightsOf(text: string): ACCESS_MASK {
  if (/^0x[0-9a-f]+$/i.test(text) || /^[0-9]+$/.test(text)) return Number(text) >>> 0;
  return pairs(text, RIGHTS, "right");
}

function aceOf(text: string): ACE {
  const f = text.split(";");
  if (f.length < 6) throw new SddlError(`ACE "(${text})" needs six fields: type;flags;rights;object guid;inherit object guid;sid`);
  const type = f[0].toUpperCase();
  if (type !== "A" && type !== "D") throw new SddlError(`ACE type "${f[0]}" is not supported (A: allow, D: deny)`);
  if (f[3] !== "" || f[4] !== "") throw new SddlError(`ACE "(${text})": object ACEs are not supported (the GUID fields must be empty)`);
  return { AceType: type === "A" ? ACCESS_ALLOWED_ACE_TYPE : ACCESS_DENIED_ACE_TYPE, AceFlags: f[1] ? pairs(f[1], ACE_FLAGS, "ACE flag") : 0, Mask: rightsOf(f[2]), Sid: sidOf(f[5]) };
}

/** Parses an SDDL string; throws an SddlError saying what is wrong. */
export function parseSddl(sddl: string): SECURITY_DESCRIPTOR {
  const sd: SECURITY_DESCRIPTOR = { Control: 0, Owner: null, Group: null, Dacl: null };
  const re = /([OGDS]):/g;
  const marks: { tag: string; at: number }[] = [];
  for (let m = re.exec(sddl); m; m = re.exec(sddl)) {
    // A component tag starts the string or follows the end of the previous component.
    if (m.index === 0 || /[)A-Z0-9_]/i.test(sddl[m.index - 1])) marks.push({ tag: m[1], at: m.index });
  }
  if (marks.length === 0 || marks[0].at !== 0) throw new SddlError(`"${sddl}" does not start with O:, G:, D: or S:`);
  const parts = marks.map((mk, i) => ({ tag: mk.tag, body: sddl.slice(mk.at + 2, i + 1 < marks.length ? marks[i + 1].at : sddl.length) }));
  for (const { tag, body } of parts) {
    if (tag === "O") sd.Owner = sidOf(body);
    else if (tag === "G") sd.Group = sidOf(body);
    else if (tag === "S") continue;
    else {
      sd.Control |= SE_DACL_PRESENT;
      if (body.toUpperCase() === "NO_ACCESS_CONTROL") continue;
      const open = body.indexOf("(");
      const flags = open < 0 ? body : body.slice(0, open);
      for (const flag of flags.match(/AI|AR|P/gi) ?? []) {
        const f = flag.toUpperCase();
        sd.Control |= f === "P" ? SE_DACL_PROTECTED : f === "AI" ? SE_DACL_AUTO_INHERITED : SE_DACL_AUTO_INHERIT_REQ;
      }
      if (flags.replace(/AI|AR|P/gi, "") !== "") throw new SddlError(`unknown DACL flags "${flags}" (P, AI, AR)`);
      sd.Dacl = [];
      const aces = open < 0 ? "" : body.slice(open);
      const ace = /\(([^()]*)\)/g;
      let consumed = 0;
      for (let m = ace.exec(aces); m; m = ace.exec(aces)) {
        if (m.index !== consumed) throw new SddlError(`unexpected "${aces.slice(consumed, m.index)}" between ACEs`);
        sd.Dacl.push(aceOf(m[1]));
        consumed = m.index + m[0].length;
      }
      if (consumed !== aces.length) throw new SddlError(`unexpected "${aces.slice(consumed)}" after the ACEs`);
    }
  }
  return sd;
}
