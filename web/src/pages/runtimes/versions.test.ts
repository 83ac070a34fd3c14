import { describe, expect, it } from "vitest";
import type { Schemas } from "@/api/client";
import { availabilitySummary, sortVersions } from "./versions";

const v = (version: string, available = true): Schemas["RuntimeVersion"] => ({
  id: 1, runtime: 1, runtime_ref: "core.python", version, execution_config: {}, distributions: {},
  is_default: false, available, verified_at: null, meta: {},
});

describe("runtime versions", () => {
  it("sorts newest first, numerically", () => {
    expect(sortVersions([v("3.9"), v("3.12"), v("3.11")]).map((x) => x.version)).toEqual(["3.12", "3.11", "3.9"]);
    expect(sortVersions([v("22"), v("18"), v("20.1")]).map((x) => x.version)).toEqual(["22", "20.1", "18"]);
  });
  it("summarises availability", () => {
    expect(availabilitySummary([])).toBe("no versions declared");
    expect(availabilitySummary([v("1"), v("2", false)])).toBe("1 of 2 available");
  });
});
