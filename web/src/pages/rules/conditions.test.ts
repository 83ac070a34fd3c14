import { describe, expect, it } from "vitest";
import { fromConditions, localProblems, parseValue, toConditions } from "./conditions";

describe("rule conditions <-> editor state", () => {
  it("reads every stored form", () => {
    expect(fromConditions(null).mode).toBe("none");
    expect(fromConditions({}).mode).toBe("none");
    expect(fromConditions([]).mode).toBe("none");
    expect(fromConditions({ expression: "{{ event.payload.n > 1 }}" })).toMatchObject({ mode: "expression", expression: "{{ event.payload.n > 1 }}" });
    expect(fromConditions([{ field: "payload.n", operator: "greaterthan", value: 3 }])).toMatchObject({
      mode: "criteria",
      criteria: [{ field: "payload.n", operator: "greaterthan", value: "3" }],
    });
    expect(fromConditions({ "trigger.status": { type: "equals", pattern: "down" } })).toMatchObject({
      mode: "criteria",
      criteria: [{ field: "trigger.status", operator: "equals", value: "down" }],
    });
  });

  it("round-trips through the editor", () => {
    const stored = [
      { field: "payload.n", operator: "greaterthan", value: 3 },
      { field: "payload.tags", operator: "contains", value: "prod" },
      { field: "payload.x", operator: "exists" },
      { field: "payload.env", operator: "inside", value: ["a", "b"] },
    ];
    expect(toConditions(fromConditions(stored))).toEqual(stored);
    expect(toConditions(fromConditions({ expression: "{{ true }}" }))).toEqual({ expression: "{{ true }}" });
    expect(toConditions({ mode: "none", expression: "x", criteria: [] })).toEqual({});
  });

  it("parses values as JSON when they are JSON", () => {
    expect(parseValue("3")).toBe(3);
    expect(parseValue("true")).toBe(true);
    expect(parseValue("down")).toBe("down");
    expect(parseValue('"3"')).toBe("3");
  });

  it("spots unbalanced expressions and fieldless criteria", () => {
    expect(localProblems({ mode: "expression", expression: "{{ event.payload.n > 1 }}", criteria: [] })).toEqual([]);
    expect(localProblems({ mode: "expression", expression: "{{ (event.payload.n > 1 }}", criteria: [] })[0]).toMatch(/Unbalanced/);
    expect(localProblems({ mode: "expression", expression: "{{ 'abc }}", criteria: [] })[0]).toMatch(/Unclosed/);
    expect(localProblems({ mode: "criteria", expression: "", criteria: [{ field: "", operator: "equals", value: "" }] })).toEqual(["Condition 1 has no field."]);
  });
});
