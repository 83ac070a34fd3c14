// Performance budget: the gzipped size of the JavaScript the first page loads, i.e. the entry
// chunk of index.html and every chunk it imports statically (transitively), read from Vite's
// build manifest (dist/.vite/manifest.json). Lazy route chunks are not counted: they load when
// their route is visited. Fails (exit 1) above the budget. Run after `npm run build`:
//   npm run size            (budget 300 KB)
//   SIZE_BUDGET_KB=250 npm run size
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

/** The manifest entries index.html loads up front: its entry and their static imports. */
export function initialChunks(manifest, entry = "index.html") {
  if (!manifest[entry]) throw new Error(`the manifest has no entry ${entry}`);
  const seen = new Set();
  const visit = (key) => {
    if (seen.has(key) || !manifest[key]) return;
    seen.add(key);
    for (const next of manifest[key].imports ?? []) visit(next);
  };
  visit(entry);
  return [...seen].map((key) => ({ key, ...manifest[key] }));
}

/** Sizes of the JS files of `chunks` (read from `dist`): [{file, bytes, gzip}]. */
export function measure(chunks, dist) {
  const files = [...new Set(chunks.map((c) => c.file).filter((f) => f.endsWith(".js")))];
  return files.map((file) => {
    const content = readFileSync(resolve(dist, file));
    return { file, bytes: content.length, gzip: gzipSync(content, { level: 9 }).length };
  });
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const dist = resolve(here, "..", "dist");
  const budget = Number(process.env.SIZE_BUDGET_KB ?? 300) * 1024;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(resolve(dist, ".vite", "manifest.json"), "utf8"));
  } catch (error) {
    console.error(`size: cannot read dist/.vite/manifest.json (run \`npm run build\` first): ${error.message}`);
    process.exit(2);
  }
  const sizes = measure(initialChunks(manifest), dist);
  const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
  for (const s of sizes) console.log(`  ${s.file.padEnd(44)} ${kb(s.bytes).padStart(10)}  gzip ${kb(s.gzip).padStart(9)}`);
  const verdict = total <= budget ? "within" : "OVER";
  console.log(`initial JS (gzip): ${kb(total)}, ${verdict} the budget of ${kb(budget)}`);
  if (total > budget) process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
