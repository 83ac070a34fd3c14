import { describe, expect, it } from "vitest";
import { fromGrants, grantProblems, grantText, toGrants, toggleOperation } from "./grants";

describe("grants", () => {
  it("round-trips the API's grant objects", () => {
    const raw = [{ resource: "key", operations: ["read"] }, { resource: "action", operations: ["read", "execute"], pack: "core" }];
    expect(fromGrants(toGrants(raw))).toEqual(raw);
  });
  it("keeps * alone and operations in order", () => {
    expect(toggleOperation(["read"], "*", true)).toEqual(["*"]);
    expect(toggleOperation(["*"], "read", true)).toEqual(["read"]);
    expect(toggleOperation(["execute"], "read", true)).toEqual(["read", "execute"]);
    expect(toggleOperation(["read", "execute"], "read", false)).toEqual(["execute"]);
  });
  it("finds the problems the server would reject", () => {
    expect(grantProblems([{ resource: "key", operations: ["read"] }])).toEqual([]);
    expect(grantProblems([{ resource: "", operations: [] }])).toHaveLength(2);
    expect(grantProblems([{ resource: "key", operations: ["read"], pack: "Bad Pack" }])[0]).toMatch(/pack ref/);
  });
  it("describes grants in words", () => {
    expect(grantText({ resource: "*", operations: ["*"] })).toBe("everything");
    expect(grantText({ resource: "action", operations: ["read", "execute"], pack: "core" })).toBe("read, execute on action in pack core");
    expect(grantText({ resource: "*", operations: ["read"] })).toBe("read on every resource");
  });
});
