// Builds everything wdmsim runs from: the machine core (scripts/build-core.mjs) and the
// JavaScript compiled from src/ and bench/ into dist/ (tsconfig.build.json, incremental).
// Writes dist/.built last: bin/wdmsim.js compares the sources with it to refuse a stale build.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
execFileSync(process.execPath, [join(root, "scripts/build-core.mjs")], { cwd: root, stdio: "inherit" });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
writeFileSync(join(root, "dist/.built"), "");
