import { describe, expect, it } from "vitest";
import { rangeOf, timeline } from "./series";

describe("dashboard series", () => {
  it("knows its ranges and defaults to 24 hours", () => {
    expect(rangeOf("7d").hours).toBe(168);
    expect(rangeOf(null).id).toBe("24h");
    expect(rangeOf("bogus").id).toBe("24h");
  });

  it("fills the hours without data with zeros and merges the series", () => {
    const points = timeline(
      {
        executions: [
          { bucket: "2026-11-27T10:00:00+00:00", value: 3 },
          { bucket: "2026-11-27T12:00:00+00:00", value: 1 },
        ],
        events: [{ bucket: "2026-11-27T11:00:00+00:00", value: 7 }],
      },
      "2026-11-27T09:30:00+00:00",
      "2026-11-27T12:30:00+00:00",
      1,
    );
    expect(points.map((p) => [new Date(p.t).toISOString().slice(11, 13), p.executions, p.events])).toEqual([
      ["09", 0, 0],
      ["10", 3, 0],
      ["11", 0, 7],
      ["12", 1, 0],
    ]);
  });

  it("sums hours into wider buckets for long ranges", () => {
    const points = timeline(
      {
        executions: [
          { bucket: "2026-11-27T01:00:00+00:00", value: 2 },
          { bucket: "2026-11-27T05:00:00+00:00", value: 3 },
          { bucket: "2026-11-27T07:00:00+00:00", value: 4 },
        ],
      },
      "2026-11-27T00:00:00+00:00",
      "2026-11-27T11:00:00+00:00",
      6,
    );
    expect(points.map((p) => p.executions)).toEqual([5, 4]);
  });
});
