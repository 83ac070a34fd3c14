// Time ranges of the dashboard and the bucketing of the API's hourly series (which only lists
// hours that had something) into a dense timeline the charts can draw.
import type { Schemas } from "@/api/client";

export const RANGES = [
  { id: "1h", label: "1 hour", hours: 1, step: 1 },
  { id: "24h", label: "24 hours", hours: 24, step: 1 },
  { id: "7d", label: "7 days", hours: 168, step: 6 },
  { id: "30d", label: "30 days", hours: 720, step: 24 },
] as const;
export type RangeId = (typeof RANGES)[number]["id"];
export type Range = (typeof RANGES)[number];

export function rangeOf(id: string | null): Range {
  return RANGES.find((r) => r.id === id) ?? RANGES[1];
}

const HOUR = 3_600_000;

export interface TimelinePoint {
  /** Start of the bucket, epoch milliseconds (UTC). */
  t: number;
  [series: string]: number;
}

/**
 * Merge hourly series into buckets of `stepHours` covering `since`..`until`, every bucket present
 * (zero when empty). `series` maps a name to the API's points (bucket = ISO hour).
 */
export function timeline(
  series: Record<string, Schemas["Point"][]>,
  since: string,
  until: string,
  stepHours: number,
): TimelinePoint[] {
  const step = stepHours * HOUR;
  const start = Math.floor(Date.parse(since) / step) * step;
  const end = Date.parse(until);
  const names = Object.keys(series);
  const out: TimelinePoint[] = [];
  for (let t = start; t <= end; t += step) {
    const point: TimelinePoint = { t };
    for (const name of names) point[name] = 0;
    out.push(point);
  }
  for (const [name, points] of Object.entries(series)) {
    for (const p of points) {
      const at = Date.parse(p.bucket);
      if (Number.isNaN(at)) continue;
      const index = Math.floor((at - start) / step);
      if (index >= 0 && index < out.length) out[index][name] += p.value;
    }
  }
  return out;
}

/** Axis label of a bucket: the time for short ranges, the day (and hour) for long ones. */
export function bucketLabel(t: number, stepHours: number): string {
  const d = new Date(t);
  if (stepHours >= 24) return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  if (stepHours > 1) return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit" });
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}
