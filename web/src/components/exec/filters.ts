// List filters live in the query string: a reload, a shared link or the back button shows the
// same filtered list. `useUrlFilters` reads them and writes them back (each change is a history
// entry, so Back undoes it).
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";

export type Filters<K extends string> = Record<K, string>;

/** The named filters' values from a query string ("" when absent). */
export function readFilters<K extends string>(params: URLSearchParams, keys: readonly K[]): Filters<K> {
  const out = {} as Filters<K>;
  for (const key of keys) out[key] = params.get(key) ?? "";
  return out;
}

/** `params` with `changes` applied: empty values are removed, other parameters kept. */
export function withFilters(params: URLSearchParams, changes: Record<string, string | null | undefined>): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    const trimmed = value?.trim() ?? "";
    if (trimmed) next.set(key, trimmed);
    else next.delete(key);
  }
  return next;
}

/** The API query for the filters that are set (numbers for numeric ids, true for flags). */
export function toQuery<K extends string>(
  filters: Filters<K>,
  kinds: Partial<Record<K, "int" | "bool">> = {},
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(filters) as [K, string][]) {
    if (!value) continue;
    const kind = kinds[key];
    if (kind === "int") {
      const n = Number(value);
      if (Number.isInteger(n) && n > 0) out[key] = n;
    } else if (kind === "bool") {
      if (value === "true" || value === "1") out[key] = true;
    } else out[key] = value;
  }
  return out;
}

export function useUrlFilters<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => readFilters(params, keys), [params, keys]);
  const setFilters = useCallback(
    (changes: Partial<Record<K, string | null>>) => setParams((current) => withFilters(current, changes)),
    [setParams],
  );
  const clear = useCallback(
    () => setParams((current) => withFilters(current, Object.fromEntries(keys.map((k) => [k, null])))),
    [setParams, keys],
  );
  const active = keys.filter((k) => filters[k]).length;
  return { filters, setFilters, clear, active };
}
