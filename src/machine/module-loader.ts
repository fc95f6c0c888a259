/**
 * Imports a module a file names (driver packages name their drivers' modules). wdmsim
 * runs either from its TypeScript source (tests) or from the JavaScript compiled into
 * dist/ (the CLI, the benchmarks, the package). A module of wdmsim's own src/ is imported
 * from the same tree the caller runs from, so drivers share one kernel with it; a user's
 * TypeScript module is compiled on import by tsx's loader, registered on first need.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "./paths.js";

/** True when this code runs from the compiled JavaScript in dist/. */
const COMPILED = fileURLToPath(import.meta.url).startsWith(join(PACKAGE_ROOT, "dist"));

let typeScriptLoader: Promise<void> | undefined;

/** The file to import for `path` (absolute): its compiled counterpart when it is wdmsim's own source and wdmsim runs compiled. */
export function runnableModulePath(path: string): string {
  const inSource = relative(join(PACKAGE_ROOT, "src"), path);
  if (!COMPILED || inSource.startsWith("..") || !/\.[mc]?ts$/.test(path)) return path;
  const compiled = join(PACKAGE_ROOT, "dist/src", inSource.replace(/\.([mc]?)ts$/, ".$1js"));
  return existsSync(compiled) ? compiled : path;
}

/** The "type" of the package.json nearest above `file` ("commonjs" when there is none). */
function packageType(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: string }).type ?? "commonjs";
    if (dirname(dir) === dir) return "commonjs";
  }
}

/**
 * Imports the module at `path` (absolute), TypeScript or JavaScript. A driver imports
 * wdmsim as an ES module, so a TypeScript module must be one too: `.mts`, or `.ts` in a
 * package whose package.json says "type": "module"; anything else is refused saying so.
 */
export async function importModule(path: string): Promise<unknown> {
  const file = runnableModulePath(path);
  if (file.endsWith(".ts") && packageType(file) !== "module") {
    throw new Error(`${file} would load as CommonJS: name it .mts, or put it in a package whose package.json has "type": "module"`);
  }
  if (COMPILED && /\.[mc]?ts$/.test(file)) {
    typeScriptLoader ??= import("tsx/esm/api").then(({ register }) => { register(); });
    await typeScriptLoader;
  }
  return import(pathToFileURL(file).href);
}
