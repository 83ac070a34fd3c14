import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { initialChunks, measure } from "../../scripts/size.mjs";

const manifest = {
  "index.html": { file: "assets/index.js", isEntry: true, imports: ["_vendor.js"], dynamicImports: ["src/pages/A.tsx"] },
  "_vendor.js": { file: "assets/vendor.js", imports: ["_shared.js"] },
  "_shared.js": { file: "assets/shared.js", imports: ["_vendor.js"] },
  "src/pages/A.tsx": { file: "assets/A.js", imports: ["_charts.js"] },
  "_charts.js": { file: "assets/charts.js" },
};

describe("initialChunks", () => {
  it("follows static imports transitively (cycles included) and skips lazy chunks", () => {
    const files = initialChunks(manifest).map((c) => c.file);
    expect(files.sort()).toEqual(["assets/index.js", "assets/shared.js", "assets/vendor.js"]);
  });
  it("fails loudly when the entry is missing", () => {
    expect(() => initialChunks({})).toThrow(/no entry index.html/);
  });
});

describe("measure", () => {
  it("reports raw and gzipped sizes of the JS files", () => {
    const dist = mkdtempSync(join(tmpdir(), "size-"));
    writeFileSync(join(dist, "a.js"), "x".repeat(10_000));
    const [a] = measure([{ file: "a.js" }, { file: "a.js" }, { file: "a.css" }], dist);
    expect(a.bytes).toBe(10_000);
    expect(a.gzip).toBeGreaterThan(0);
    expect(a.gzip).toBeLessThan(200);
  });
});
