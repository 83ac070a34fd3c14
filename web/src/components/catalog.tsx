// Pieces shared by the catalog pages (packs, actions, rules, triggers, sensors, inquiries):
// whole lists with a client-side search kept in the URL, enable/disable switches, confirmed
// deletes, tabs whose choice is in the URL.
import { useQueryClient } from "@tanstack/react-query";
import { Search } from "lucide-react";
import { type ReactNode, useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, authFetch } from "@/api/client";
import { type Query, useInfiniteList } from "@/api/lists";
import { Button, Input, cx } from "./ui";

/** Every page of a list (catalog lists are small): the next page loads as soon as one arrives. */
export function useAllRows<T>(key: unknown[], path: string, query: Query = {}) {
  const list = useInfiniteList<T>(key, path, query);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  return list;
}

/** Rows whose named fields contain every word of `text` (case-insensitive). */
export function filterRows<T>(rows: T[], text: string, fields: (row: T) => (string | null | undefined)[]): T[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return rows;
  return rows.filter((row) => {
    const hay = fields(row).filter(Boolean).join(" ").toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** A URL query-string parameter as state (replacing the history entry while typing). */
export function useQueryParam(name: string): [string, (value: string, push?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const value = params.get(name) ?? "";
  const set = (next: string, push = false) =>
    setParams(
      (current) => {
        const copy = new URLSearchParams(current);
        if (next) copy.set(name, next);
        else copy.delete(name);
        return copy;
      },
      { replace: !push },
    );
  return [value, set];
}

export function SearchBox(props: { label: string; param?: string; placeholder?: string }) {
  const [value, setValue] = useQueryParam(props.param ?? "q");
  return (
    <div className="relative w-full max-w-sm">
      <Search className="pointer-events-none absolute left-2.5 top-2 h-4 w-4 text-slate-400" aria-hidden />
      <Input
        type="search"
        aria-label={props.label}
        placeholder={props.placeholder ?? "Search…"}
        className="pl-8"
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
    </div>
  );
}

/** POST (or another method) with a JSON body; returns the response's `data` or throws an ApiError. */
export async function send<T = unknown>(path: string, body?: unknown, method = "POST"): Promise<T> {
  const response = await authFetch(path, {
    method,
    headers: body === undefined ? undefined : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const details = payload.details;
    let message: string = payload.error ?? `${response.status} ${response.statusText}`;
    if (Array.isArray(details) && details.length > 0 && typeof details[0] === "object") {
      const extra = details
        .map((d: { field?: string; path?: string; message?: string }) =>
          d.message ? `${d.field ?? d.path ?? ""}${d.field || d.path ? ": " : ""}${d.message}` : "",
        )
        .filter(Boolean)
        .join("; ");
      if (extra && !message.includes(extra)) message = `${message} (${extra})`;
    }
    throw new ApiError(response.status, message, payload.code, details);
  }
  return payload.data as T;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Invalidate every query whose key starts with one of `names`. */
export function useInvalidate() {
  const client = useQueryClient();
  return (...names: string[]) =>
    Promise.all(names.map((name) => client.invalidateQueries({ queryKey: [name] })));
}

/**
 * A switch that enables or disables an entity through `{base}/enable|disable`.
 * `label` names the entity for screen readers ("Enable rule x").
 */
export function EnableToggle(props: { enabled: boolean; base: string; label: string; invalidate: string[] }) {
  const invalidate = useInvalidate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [optimistic, setOptimistic] = useState<boolean | null>(null);
  const on = optimistic ?? props.enabled;
  useEffect(() => setOptimistic(null), [props.enabled]);
  const toggle = async () => {
    setBusy(true);
    setError(null);
    setOptimistic(!on);
    try {
      await send(`${props.base}/${on ? "disable" : "enable"}`, {});
      await invalidate(...props.invalidate);
    } catch (e) {
      setOptimistic(null);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="inline-flex items-center gap-2">
      <button
        type="button"
        role="switch"
        aria-checked={on}
        aria-label={`${props.label} enabled`}
        disabled={busy}
        onClick={(e) => {
          e.preventDefault();
          e.stopPropagation();
          void toggle();
        }}
        className={cx(
          "relative inline-flex h-5 w-9 shrink-0 items-center rounded-full transition-colors disabled:opacity-60",
          on ? "bg-green-600" : "bg-slate-300 dark:bg-slate-600",
        )}
      >
        <span className={cx("inline-block h-4 w-4 rounded-full bg-white shadow transition-transform", on ? "translate-x-4" : "translate-x-0.5")} />
      </button>
      <span className="text-xs text-slate-600 dark:text-slate-300">{on ? "enabled" : "disabled"}</span>
      {error && (
        <span role="alert" className="text-xs text-red-600">
          {error}
        </span>
      )}
    </span>
  );
}

/** A delete button that asks first. */
export function DeleteButton(props: { what: string; onDelete: () => Promise<unknown> }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!confirming)
    return (
      <Button variant="ghost" onClick={() => setConfirming(true)}>
        Delete
      </Button>
    );
  return (
    <span className="inline-flex items-center gap-2">
      <span className="text-sm">Delete {props.what}?</span>
      <Button
        variant="danger"
        onClick={async () => {
          try {
            await props.onDelete();
          } catch (e) {
            setError(errorText(e));
          }
        }}
      >
        Yes, delete
      </Button>
      <Button onClick={() => setConfirming(false)}>Cancel</Button>
      {error && (
        <span role="alert" className="text-xs text-red-600">
          {error}
        </span>
      )}
    </span>
  );
}

/** Tabs whose selection is the `tab` query parameter (so each tab has its own URL). */
export function Tabs(props: { tabs: { id: string; label: ReactNode }[]; param?: string; children: (tab: string) => ReactNode }) {
  const [value, setValue] = useQueryParam(props.param ?? "tab");
  const current = props.tabs.some((t) => t.id === value) ? value : props.tabs[0].id;
  return (
    <div>
      <div role="tablist" className="mb-3 flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800">
        {props.tabs.map((tab) => (
          <button
            key={tab.id}
            role="tab"
            type="button"
            aria-selected={tab.id === current}
            onClick={() => setValue(tab.id === props.tabs[0].id ? "" : tab.id, true)}
            className={cx(
              "-mb-px border-b-2 px-3 py-1.5 text-sm",
              tab.id === current
                ? "border-indigo-600 font-medium text-indigo-700 dark:text-indigo-300"
                : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100",
            )}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div role="tabpanel">{props.children(current)}</div>
    </div>
  );
}

export function RefLink(props: { to: string; children: ReactNode }) {
  return (
    <Link to={props.to} className="text-indigo-700 hover:underline dark:text-indigo-300">
      {props.children}
    </Link>
  );
}

/** A JSON object as indented text. */
export function Json({ value }: { value: unknown }) {
  return (
    <pre className="max-h-80 overflow-auto rounded-md bg-slate-50 p-3 font-mono text-xs dark:bg-slate-950">
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
