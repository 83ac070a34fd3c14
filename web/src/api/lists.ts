// Paged lists: every list endpoint answers {items, pagination}; these hooks fetch pages of it
// (page size 100, the server's maximum) and load the next page on demand.
import { useInfiniteQuery } from "@tanstack/react-query";
import type { Schemas } from "./client";
import { ApiError, authFetch } from "./client";

export type Pagination = Schemas["Pagination"];
export interface Page<T> {
  items: T[];
  pagination: Pagination;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** GET a JSON body with the session's token; throws an ApiError with the server's message. */
export async function getJson<T>(path: string, query: Query = {}): Promise<T> {
  const response = await authFetch(path + queryString(query));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error ?? response.statusText, body.code, body.details);
  return body as T;
}

/**
 * All pages of a list, loaded one after another as the user scrolls (`fetchNextPage`).
 * `key` starts with the entity's plural name so live notifications refresh it.
 */
export function useInfiniteList<T>(key: unknown[], path: string, query: Query = {}, pageSize = 100) {
  const result = useInfiniteQuery({
    queryKey: [...key, query],
    initialPageParam: 1,
    queryFn: ({ pageParam }) => getJson<Page<T>>(path, { ...query, page: pageParam, page_size: pageSize }),
    getNextPageParam: (last, _all, page) => (last.pagination.has_next ? page + 1 : undefined),
  });
  const rows = result.data?.pages.flatMap((p) => p.items) ?? [];
  return { ...result, rows };
}
