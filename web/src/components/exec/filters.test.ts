import { describe, expect, it } from "vitest";
import { readFilters, toQuery, withFilters } from "./filters";

describe("URL filters", () => {
  const keys = ["status", "action_ref", "parent", "top_level_only"] as const;

  it("reads the named filters, empty when absent", () => {
    const params = new URLSearchParams("status=failed&other=1");
    expect(readFilters(params, keys)).toEqual({ status: "failed", action_ref: "", parent: "", top_level_only: "" });
  });

  it("sets, trims and removes values while keeping other parameters", () => {
    const params = new URLSearchParams("status=failed&range=24h");
    const next = withFilters(params, { status: "", action_ref: " core.echo ", parent: null });
    expect(next.toString()).toBe("range=24h&action_ref=core.echo");
  });

  it("turns filters into API parameters: ids as numbers, flags as booleans, junk dropped", () => {
    expect(
      toQuery({ status: "running,failed", action_ref: "", parent: "12", top_level_only: "true" }, { parent: "int", top_level_only: "bool" }),
    ).toEqual({ status: "running,failed", parent: 12, top_level_only: true });
    expect(toQuery({ status: "", action_ref: "", parent: "abc", top_level_only: "no" }, { parent: "int", top_level_only: "bool" })).toEqual({});
  });
});
