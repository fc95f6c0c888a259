/**
 * Registry keys and values written from files: a machine file's "registry" presets (full
 * paths) and a driver package's "addReg" (paths below the service, hardware or software
 * key, as an INF's AddReg lines are relative to HKR). The JSON forms are
 * firmware/schema/registry.schema.json's: a number is REG_DWORD, a string REG_SZ, a list
 * of strings REG_MULTI_SZ, and { type, data } any other type. Data that does not fit its
 * type is a FirmwareError naming the file, the JSON path and the rule.
 */
import { FirmwareError } from "../machine/firmwareFiles.js";
import { splitPath, type Registry } from "./registry.js";
import { encodeValue, regTypeOf, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_NONE, REG_SZ } from "./value-types.js";

/** A value ready to store. */
export interface PresetValue {
  name: string;
  /** REG_* type. */
  type: number;
  data: Uint8Array;
}

/** A key and its values; `path` is full, or relative to the key the set is applied under. */
export interface PresetKey {
  path: string;
  values: PresetValue[];
}

/** Root key names a file may start a full path with, and the registry path each stands for. */
const ROOTS: Record<string, string> = {
  HKLM: "\\REGISTRY\\MACHINE",
  HKEY_LOCAL_MACHINE: "\\REGISTRY\\MACHINE",
  HKU: "\\REGISTRY\\USER",
  HKEY_USERS: "\\REGISTRY\\USER",
  "\\REGISTRY": "\\REGISTRY",
};

/** The registry path of "HKLM\\...", "HKEY_LOCAL_MACHINE\\...", "HKU\\..." or "\\Registry\\..." (any case); null otherwise. */
export function fullRegistryPath(path: string): string | null {
  const cut = path.startsWith("\\") ? path.indexOf("\\", 1) : path.indexOf("\\");
  const head = (cut < 0 ? path : path.slice(0, cut)).toUpperCase();
  const root = ROOTS[head];
  if (root === undefined) return null;
  const rest = cut < 0 ? "" : path.slice(cut);
  return splitPath(rest) ? `${root}${rest.replace(/\\$/, "")}` : null;
}

/** JSON-pointer form of one path segment. */
const pointer = (segment: string) => segment.replace(/~/g, "~0").replace(/\//g, "~1");

/** Bytes of REG_BINARY-style data: a list of bytes or a hex string ("01 02 ff", "0102ff"). */
function bytesOf(data: unknown): Uint8Array | null {
  if (Array.isArray(data) && data.every((b) => typeof b === "number")) return Uint8Array.from(data as number[]);
  if (typeof data === "string") {
    const hex = data.replace(/[\s,]/g, "");
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
    return Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  }
  return null;
}

/** One value from its JSON form (schema-checked); throws a FirmwareError at `at` when the data does not fit the type. */
function presetValue(name: string, json: unknown, file: string, at: string): PresetValue {
  if (typeof json === "number") return { name, type: REG_DWORD, data: encodeValue(REG_DWORD, json) };
  if (typeof json === "string") return { name, type: REG_SZ, data: encodeValue(REG_SZ, json) };
  if (Array.isArray(json)) return { name, type: REG_MULTI_SZ, data: encodeValue(REG_MULTI_SZ, json as string[]) };
  const { type: typeName, data } = json as { type: string; data: unknown };
  const type = regTypeOf(typeName);
  if (type === REG_BINARY || type === REG_NONE || (Array.isArray(data) && data.every((b) => typeof b === "number"))) {
    const bytes = bytesOf(data);
    if (!bytes) throw new FirmwareError(file, `${at}/data`, `${typeName} data must be a list of bytes or a hex string such as "01 02 ff"`);
    return { name, type, data: bytes };
  }
  try {
    return { name, type, data: encodeValue(type, data as string) };
  } catch (e) {
    throw new FirmwareError(file, `${at}/data`, (e as Error).message);
  }
}

/**
 * Keys and values from a file's JSON (schema-checked). With `relative`, paths are below
 * the key they will be applied under ("" for that key); otherwise they must be full
 * (HKLM\\..., \\Registry\\...). Errors name `file` and the JSON path under `at`.
 */
export function presetKeys(json: Record<string, Record<string, unknown>> | undefined, relative: boolean, file: string, at: string): PresetKey[] {
  const out: PresetKey[] = [];
  for (const [path, values] of Object.entries(json ?? {})) {
    const keyAt = `${at}/${pointer(path)}`;
    let resolved: string | null;
    if (relative) resolved = path === "" ? "" : splitPath(path) && !path.startsWith("\\") ? path.replace(/\\$/, "") : null;
    else resolved = fullRegistryPath(path);
    if (resolved === null) {
      throw new FirmwareError(file, keyAt, relative
        ? "a key path below the key the package adds to: names separated by \\, not starting with \\ (\"\" for the key itself)"
        : "a full key path: HKLM\\..., HKEY_LOCAL_MACHINE\\..., HKU\\... or \\Registry\\..., names separated by single \\");
    }
    out.push({ path: resolved, values: Object.entries(values).map(([name, v]) => presetValue(name, v, file, `${keyAt}/${pointer(name)}`)) });
  }
  return out;
}

/** Writes `keys` into the registry, below `base` when their paths are relative (the keys made as needed). */
export function applyPresetKeys(registry: Registry, keys: readonly PresetKey[], base = ""): void {
  for (const k of keys) {
    const path = base === "" ? k.path : k.path === "" ? base : `${base}\\${k.path}`;
    const key = registry.ensure(path);
    for (const v of k.values) registry.setValue(key, v.name, v.type, v.data.slice());
  }
}
