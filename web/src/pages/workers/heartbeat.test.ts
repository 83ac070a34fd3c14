import { describe, expect, it } from "vitest";
import { ageText, capabilityList, freshness, heartbeatAge } from "./heartbeat";

describe("heartbeat", () => {
  const now = Date.parse("2026-11-27T12:00:00Z");
  it("measures the age in seconds", () => {
    expect(heartbeatAge("2026-11-27T11:59:52Z", now)).toBe(8);
    expect(heartbeatAge(null, now)).toBeNull();
    expect(heartbeatAge("2026-11-27T12:00:03Z", now)).toBe(0);
  });
  it("classifies fresh, late and stale beats", () => {
    expect(freshness(8)).toBe("fresh");
    expect(freshness(20)).toBe("late");
    expect(freshness(31)).toBe("stale");
    expect(freshness(null)).toBe("never");
  });
  it("writes ages for people", () => {
    expect(ageText(4)).toBe("4 s");
    expect(ageText(125)).toBe("2 min 5 s");
    expect(ageText(3 * 3600 + 600)).toBe("3 h 10 min");
    expect(ageText(3 * 86_400)).toBe("3 d");
  });
  it("lists capabilities", () => {
    expect(capabilityList({ runtimes: ["*"], max_concurrent_executions: 10 })).toEqual({
      runtimes: ["*"],
      other: [["max_concurrent_executions", "10"]],
    });
    expect(capabilityList({}).runtimes).toEqual([]);
  });
});
