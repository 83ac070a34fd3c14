// A worker's heartbeat age: workers beat every 10 s by default and are declared dead after
// 30 s without one (worker.heartbeat_interval / heartbeat_stale_after).
export type Freshness = "fresh" | "late" | "stale" | "never";

export function heartbeatAge(last: string | null | undefined, now: number): number | null {
  if (!last) return null;
  return Math.max(0, Math.round((now - new Date(last).getTime()) / 1000));
}

export function freshness(ageSeconds: number | null, interval = 10, staleAfter = 30): Freshness {
  if (ageSeconds === null) return "never";
  if (ageSeconds <= interval * 1.5) return "fresh";
  if (ageSeconds <= staleAfter) return "late";
  return "stale";
}

/** "4 s", "2 min 5 s", "3 h 10 min", "2 d". */
export function ageText(ageSeconds: number | null): string {
  if (ageSeconds === null) return "never";
  if (ageSeconds < 60) return `${ageSeconds} s`;
  if (ageSeconds < 3600) return `${Math.floor(ageSeconds / 60)} min ${ageSeconds % 60} s`;
  if (ageSeconds < 86_400) return `${Math.floor(ageSeconds / 3600)} h ${Math.floor((ageSeconds % 3600) / 60)} min`;
  return `${Math.floor(ageSeconds / 86_400)} d`;
}

/** The runtimes a worker offers ("*" = every registered runtime) and its concurrency. */
export function capabilityList(capabilities: Record<string, unknown>): { runtimes: string[]; other: [string, string][] } {
  const raw = capabilities.runtimes;
  const runtimes = Array.isArray(raw) ? raw.map(String) : [];
  const other = Object.entries(capabilities)
    .filter(([k]) => k !== "runtimes")
    .map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)] as [string, string]);
  return { runtimes, other };
}
