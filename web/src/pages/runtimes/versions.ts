import type { Schemas } from "@/api/client";

type Version = Schemas["RuntimeVersion"];

/** Versions newest first (numerically: 3.12 after 3.9), the default one flagged. */
export function sortVersions(versions: Version[]): Version[] {
  const parts = (v: string) => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return [...versions].sort((a, b) => {
    const x = parts(a.version);
    const y = parts(b.version);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const p = x[i] ?? -1;
      const q = y[i] ?? -1;
      if (p === q) continue;
      if (typeof p === "number" && typeof q === "number") return q - p;
      return String(q).localeCompare(String(p));
    }
    return 0;
  });
}

/** "2 of 3 available", "no versions (runs as is)". */
export function availabilitySummary(versions: Version[]): string {
  if (versions.length === 0) return "no versions declared";
  const available = versions.filter((v) => v.available).length;
  return `${available} of ${versions.length} available`;
}
