import { describe, expect, it } from "vitest";
import { duration, relativeTime } from "./format";

describe("relativeTime", () => {
  const now = Date.parse("2026-11-27T12:00:00Z");
  it("names recent instants in seconds, minutes and hours", () => {
    expect(relativeTime("2026-11-27T11:59:58Z", now)).toBe("just now");
    expect(relativeTime("2026-11-27T11:59:30Z", now)).toBe("30 s ago");
    expect(relativeTime("2026-11-27T11:55:00Z", now)).toBe("5 min ago");
    expect(relativeTime("2026-11-27T09:00:00Z", now)).toBe("3 h ago");
  });
  it("shows a dash for a missing time", () => {
    expect(relativeTime(null, now)).toBe("—");
  });
});

describe("duration", () => {
  it("formats milliseconds, seconds and minutes", () => {
    expect(duration("2026-11-27T12:00:00.000Z", "2026-11-27T12:00:00.850Z")).toBe("850 ms");
    expect(duration("2026-11-27T12:00:00Z", "2026-11-27T12:00:12.400Z")).toBe("12.4 s");
    expect(duration("2026-11-27T12:00:00Z", "2026-11-27T12:03:05Z")).toBe("3 min 5 s");
  });
});
