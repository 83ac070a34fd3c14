import { describe, expect, it } from "vitest";
import { passwordProblem } from "./password";

describe("passwordProblem", () => {
  it("accepts a valid change", () => {
    expect(passwordProblem("OldPass123", "NewPass123", "NewPass123")).toBeNull();
  });
  it("names what is wrong", () => {
    expect(passwordProblem("", "NewPass123", "NewPass123")).toMatch(/current/);
    expect(passwordProblem("old", "short", "short")).toMatch(/8 to 128/);
    expect(passwordProblem("old", "NewPass123", "NewPass124")).toMatch(/differ/);
    expect(passwordProblem("SamePass1", "SamePass1", "SamePass1")).toMatch(/same/);
  });
});
