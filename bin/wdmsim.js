#!/usr/bin/env node
// The wdmsim command: runs the CLI compiled by `npm run build` into dist/. A build older
// than the TypeScript beside it is refused with the command that rebuilds it, so the
// command never runs code other than the source shows.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = join(root, "dist/src/cli/main.js");

/** The newest .ts file under `dir` as [mtime ms, path], or [0, ""] when there is none. */
function newestSource(dir) {
  let newest = [0, ""];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    const candidate = e.isDirectory() ? newestSource(path) : e.name.endsWith(".ts") ? [statSync(path).mtimeMs, path] : [0, ""];
    if (candidate[0] > newest[0]) newest = candidate;
  }
  return newest;
}

if (!existsSync(entry)) {
  console.error(`wdmsim: not built (${entry} is missing): run \`npm run build\` in ${root}`);
  process.exit(2);
}
const sources = join(root, "src");
if (existsSync(sources)) {
  const [changed, file] = newestSource(sources);
  const stamp = join(root, "dist/.built");
  if (!existsSync(stamp) || changed > statSync(stamp).mtimeMs) {
    console.error(`wdmsim: the build in dist/ is older than ${file.slice(root.length)}: run \`npm run build\` in ${root}`);
    process.exit(2);
  }
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
