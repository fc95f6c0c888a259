// SDDL and the access check, as SeAccessCheck decides for a device's security descriptor.
import { describe, expect, it } from "vitest";
import { accessCheck } from "../../src/se/access-check.js";
import {
  FILE_ALL_ACCESS, FILE_GENERIC_READ, FILE_READ_DATA, FILE_GENERIC_WRITE, FILE_GENERIC_MAPPING, GENERIC_READ, GENERIC_WRITE, MAXIMUM_ALLOWED, READ_CONTROL,
  WRITE_DAC,
} from "../../src/ob/access.js";
import { SDDL_DEVOBJ_KERNEL_ONLY, SDDL_DEVOBJ_SYS_ALL_ADM_ALL, SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R } from "../../src/se/device-sddl.js";
import { ACCESS_ALLOWED_ACE_TYPE, ACCESS_DENIED_ACE_TYPE, parseSddl, SddlError, SE_DACL_PRESENT, SE_DACL_PROTECTED } from "../../src/se/security-descriptor.js";
import { SID_BUILTIN_ADMINISTRATORS, SID_EVERYONE, SID_LOCAL_SYSTEM } from "../../src/se/sid.js";
import { administratorToken, standardUserToken, systemToken } from "../../src/se/token.js";

const check = (sddl: string, token = standardUserToken(), desired = GENERIC_READ) => accessCheck(parseSddl(sddl), token, desired, FILE_GENERIC_MAPPING);

describe("SDDL", () => {
  it("parses wdmsec.h's device strings: a protected DACL of allow entries", () => {
    expect(parseSddl(SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R)).toEqual({
      Control: SE_DACL_PRESENT | SE_DACL_PROTECTED, Owner: null, Group: null,
      Dacl: [
        { AceType: ACCESS_ALLOWED_ACE_TYPE, AceFlags: 0, Mask: 0x10000000, Sid: SID_LOCAL_SYSTEM },
        { AceType: ACCESS_ALLOWED_ACE_TYPE, AceFlags: 0, Mask: 0xE0000000, Sid: SID_BUILTIN_ADMINISTRATORS },
        { AceType: ACCESS_ALLOWED_ACE_TYPE, AceFlags: 0, Mask: 0x80000000, Sid: SID_EVERYONE },
      ],
    });
  });

  it("takes owners, groups, numeric rights, SID strings and deny entries", () => {
    const sd = parseSddl("O:BAG:SYD:(D;;0x2;;;S-1-5-32-545)(A;CI;FA;;;WD)");
    expect(sd.Owner).toBe(SID_BUILTIN_ADMINISTRATORS);
    expect(sd.Group).toBe(SID_LOCAL_SYSTEM);
    expect(sd.Dacl).toEqual([
      { AceType: ACCESS_DENIED_ACE_TYPE, AceFlags: 0, Mask: 2, Sid: "S-1-5-32-545" },
      { AceType: ACCESS_ALLOWED_ACE_TYPE, AceFlags: 2, Mask: FILE_ALL_ACCESS, Sid: SID_EVERYONE },
    ]);
    expect(parseSddl("D:NO_ACCESS_CONTROL").Dacl).toBeNull();
  });

  it("refuses what it cannot read, saying what", () => {
    expect(() => parseSddl("X:P")).toThrow(SddlError);
    expect(() => parseSddl("D:P(A;;GA;;;XX)")).toThrow(/"XX" is not a SID/);
    expect(() => parseSddl("D:P(A;;QQ;;;SY)")).toThrow(/unknown right "QQ"/);
    expect(() => parseSddl("D:P(OA;;GA;;;SY)")).toThrow(/ACE type "OA" is not supported/);
    expect(() => parseSddl("D:P(A;;GA;;SY)")).toThrow(/six fields/);
  });
});

describe("the access check", () => {
  it("SDDL_DEVOBJ_SYS_ALL_ADM_ALL: administrators and LocalSystem get everything, users nothing", () => {
    expect(check(SDDL_DEVOBJ_SYS_ALL_ADM_ALL, administratorToken(), GENERIC_READ | GENERIC_WRITE)).toEqual({ granted: true, GrantedAccess: FILE_GENERIC_READ | FILE_GENERIC_WRITE });
    expect(check(SDDL_DEVOBJ_SYS_ALL_ADM_ALL, systemToken(), MAXIMUM_ALLOWED)).toEqual({ granted: true, GrantedAccess: FILE_ALL_ACCESS });
    expect(check(SDDL_DEVOBJ_SYS_ALL_ADM_ALL)).toEqual({ granted: false, GrantedAccess: 0 });
  });

  it("SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R: everyone may read, only administrators write", () => {
    expect(check(SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R).granted).toBe(true);
    expect(check(SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R, standardUserToken(), GENERIC_WRITE).granted).toBe(false);
    expect(check(SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R, administratorToken(), GENERIC_WRITE).granted).toBe(true);
  });

  it("entries count in order: a deny before an allow refuses, after it is too late", () => {
    expect(check("D:(D;;GW;;;BU)(A;;GA;;;BU)", standardUserToken(), GENERIC_WRITE).granted).toBe(false);
    // FILE_GENERIC_WRITE shares READ_CONTROL and SYNCHRONIZE with FILE_GENERIC_READ: denying GW refuses GR too.
    expect(check("D:(D;;GW;;;BU)(A;;GA;;;BU)", standardUserToken(), GENERIC_READ).granted).toBe(false);
    expect(check("D:(D;;GW;;;BU)(A;;GA;;;BU)", standardUserToken(), FILE_READ_DATA).granted).toBe(true);
    expect(check("D:(A;;GA;;;BU)(D;;GW;;;BU)", standardUserToken(), GENERIC_WRITE).granted).toBe(true);
  });

  it("a null DACL grants everything, an empty one nothing; the owner may always read and change the DACL", () => {
    expect(check("D:NO_ACCESS_CONTROL", standardUserToken(), GENERIC_WRITE).granted).toBe(true);
    expect(check(SDDL_DEVOBJ_KERNEL_ONLY, administratorToken()).granted).toBe(false);
    expect(check("O:BAD:P", administratorToken(), READ_CONTROL | WRITE_DAC).granted).toBe(true);
  });
});
