/**
 * Where wdmsim's own files are: the package root is the nearest folder above this module
 * that holds wdmsim's package.json, so the same code finds build/ and firmware/ whether it
 * runs from its TypeScript source (src/) or from the compiled JavaScript (dist/src/).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "wdmsim") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`wdmsim's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The package root: the folder with package.json, build/ and firmware/ (absolute path, no trailing separator). */
export const PACKAGE_ROOT = findPackageRoot();
