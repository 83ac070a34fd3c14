// Executions, newest first: filters in the query string, infinite paging through a virtualised
// table, and live updates (a notification about any execution refreshes the loaded pages).
import { useCallback, useEffect, useState } from "react";
import type { Schemas } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { EXECUTION_STATUSES, ExecutionTable } from "@/components/exec/ExecutionTable";
import { toQuery, useUrlFilters } from "@/components/exec/filters";
import { useLiveRefresh } from "@/components/exec/useLiveRefresh";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Button, Input, PageHeader, Select } from "@/components/ui";
import { useLiveStatus } from "@/lib/live";

const KEYS = ["status", "action_ref", "pack_name", "rule_ref", "trigger_ref", "parent", "top_level_only"] as const;
const TEXT_FIELDS: { key: (typeof KEYS)[number]; label: string; placeholder: string }[] = [
  { key: "action_ref", label: "Action", placeholder: "core.echo" },
  { key: "pack_name", label: "Pack", placeholder: "core" },
  { key: "rule_ref", label: "Rule", placeholder: "pack.rule" },
  { key: "trigger_ref", label: "Trigger", placeholder: "core.intervaltimer" },
  { key: "parent", label: "Parent ID", placeholder: "123" },
];

export default function ExecutionList() {
  const { filters, setFilters, clear, active } = useUrlFilters(KEYS);
  const query = toQuery(filters, { parent: "int", top_level_only: "bool" });
  // own key prefix: refreshed by useLiveRefresh (throttled), not by every notification
  const list = useInfiniteList<Schemas["ExecutionSummary"]>(["execution-list"], "/api/v1/executions", query);
  useLiveRefresh(["execution", "workflow_execution"], ["execution-list"]);
  const connected = useLiveStatus((s) => s.connected);

  // text filters are edited in a draft and applied on Enter/Apply; the draft follows the URL
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [filters]);
  const apply = (event: React.FormEvent) => {
    event.preventDefault();
    setFilters(Object.fromEntries(TEXT_FIELDS.map((f) => [f.key, draft[f.key]])));
  };

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  return (
    <div>
      <PageHeader
        title="Executions"
        subtitle={
          <>
            {list.isPending ? "Loading…" : `${list.rows.length}${hasNextPage ? "+" : ""} shown`}
            {" · "}
            <span data-testid="executions-live">{connected ? "updates live" : "live updates paused (reconnecting)"}</span>
          </>
        }
      />
      <form onSubmit={apply} aria-label="Execution filters" className="mb-3 grid grid-cols-2 gap-2 md:grid-cols-4 xl:grid-cols-8">
        <div>
          <label htmlFor="f-status" className="mb-0.5 block text-xs font-medium text-slate-600 dark:text-slate-300">
            Status
          </label>
          <Select id="f-status" value={filters.status} onChange={(e) => setFilters({ status: e.target.value })}>
            <option value="">Any status</option>
            <option value="requested,scheduling,scheduled,running,canceling">Active (not ended)</option>
            <option value="failed,timeout,abandoned">Failed, timed out, abandoned</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </div>
        {TEXT_FIELDS.map((f) => (
          <div key={f.key}>
            <label htmlFor={`f-${f.key}`} className="mb-0.5 block text-xs font-medium text-slate-600 dark:text-slate-300">
              {f.label}
            </label>
            <Input
              id={`f-${f.key}`}
              value={draft[f.key]}
              placeholder={f.placeholder}
              inputMode={f.key === "parent" ? "numeric" : undefined}
              onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
            />
          </div>
        ))}
        <div className="flex items-end gap-2">
          <label className="flex items-center gap-1.5 pb-1.5 text-sm">
            <input
              type="checkbox"
              checked={filters.top_level_only === "true"}
              onChange={(e) => setFilters({ top_level_only: e.target.checked ? "true" : null })}
            />
            Top-level only
          </label>
        </div>
        <div className="col-span-2 flex items-end gap-2 md:col-span-4 xl:col-span-8">
          <Button type="submit" variant="primary" size="sm">
            Apply filters
          </Button>
          {active > 0 && (
            <Button size="sm" variant="ghost" onClick={clear}>
              Clear filters ({active})
            </Button>
          )}
        </div>
      </form>
      {list.isPending ? (
        <Loading label="Loading executions…" />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <>
          <ExecutionTable
            rows={list.rows}
            label="Executions"
            onEndReached={loadMore}
            empty={
              <Empty title={active ? "No execution matches these filters" : "No executions yet"}>
                {active ? (
                  <Button size="sm" onClick={clear}>
                    Clear filters
                  </Button>
                ) : (
                  <p>Run an action from the Actions page; it will show up here live.</p>
                )}
              </Empty>
            }
          />
          {isFetchingNextPage ? (
            <Loading label="Loading more…" />
          ) : (
            hasNextPage && (
              <div className="mt-2 flex justify-center">
                <Button size="sm" onClick={loadMore}>
                  Load more executions
                </Button>
              </div>
            )
          )}
        </>
      )}
    </div>
  );
}
