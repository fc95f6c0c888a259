/**
 * !reg querykey|q FullKeyPath: a registry key as WinDbg's !reg prints it: the key found
 * (its path upper-cased, as the key control block names it, with links resolved), the
 * hive and key node addresses, the subkeys with their key node addresses, and the values
 * with their type, name and data (numbers in decimal, strings as they are, REG_MULTI_SZ
 * strings joined by \0, other data as hexadecimal bytes).
 */
import { CM } from "../cm/registry.js";
import { regTypeName, REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_EXPAND_SZ, REG_LINK, REG_MULTI_SZ, REG_QWORD, REG_SZ } from "../cm/value-types.js";
import type { CM_KEY_VALUE } from "../cm/key.js";
import { InspectError, expectAtMost } from "./args.js";
import { ptr, type InspectContext } from "./context.js";

const USAGE = "!reg querykey|q FullKeyPath  (e.g. !reg q \\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services)";

/** A parsed !reg command. */
export interface RegArgs {
  path: string;
}

/** Parses !reg's arguments: the querykey subcommand and a full key path. */
export function parseReg(words: string[]): RegArgs {
  expectAtMost(words, 2, USAGE);
  const [sub = "", path] = words;
  if (sub.toLowerCase() !== "querykey" && sub.toLowerCase() !== "q") throw new InspectError(`!reg: ${sub ? `unknown subcommand "${sub}"` : "a subcommand is needed"}; usage: ${USAGE}`);
  if (!path || !/^\\registry(\\|$)/i.test(path)) throw new InspectError(`!reg ${sub}: a full key path starting with \\REGISTRY is needed; usage: ${USAGE}`);
  return { path };
}

/** A value's data as the value column prints it. */
function dataText(v: CM_KEY_VALUE): string {
  const d = v.decoded;
  switch (v.type) {
    case REG_DWORD:
    case REG_DWORD_BIG_ENDIAN:
    case REG_QWORD:
    case REG_SZ:
    case REG_EXPAND_SZ:
    case REG_LINK:
      if (typeof d === "number" || typeof d === "string") return String(d);
      break;
    case REG_MULTI_SZ:
      return (d as string[]).join("\\0");
  }
  return [...v.data].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Runs !reg querykey. */
export function reg(ctx: InspectContext, args: RegArgs): string {
  const registry = CM(ctx.k);
  const key = registry.find(args.path);
  if (!key) return `Key ${args.path} not found`;
  const lines = [
    "",
    `Found KCB = ${ptr(key.address)} :: ${key.path.toUpperCase()}`,
    "",
    `Hive         ${ptr(registry.hiveAddress)}`,
    `KeyNode      ${ptr(key.address)}`,
    "",
  ];
  const subkeys = key.subkeys();
  if (subkeys.length > 0) {
    lines.push("[SubKeyAddr]         [SubKeyName]");
    for (const s of subkeys) lines.push(`${ptr(s.address).padEnd(21)}${s.name}`);
    lines.push("");
  }
  lines.push("[ValueType]         [ValueName]                   [ValueData]");
  if (key.values.size === 0) lines.push(" Key has no Values");
  for (const v of key.values.values()) lines.push(`${regTypeName(v.type).padEnd(20)}${(v.name || "(Default)").padEnd(30)}${dataText(v)}`);
  return `${lines.join("\n")}\n`;
}
