// Enforcements (a rule matching an event) newest first, filtered by rule, status, trigger or
// event in the query string. Live: new and resolved enforcements refresh the loaded pages at
// most once a second (useLiveRefresh), so a burst of rule matches never stalls scrolling.
import { useCallback } from "react";
import type { Schemas } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { EnforcementTable } from "@/components/exec/EntityTables";
import { useLiveRefresh } from "@/components/exec/useLiveRefresh";
import { FilterBar } from "@/components/exec/FilterBar";
import { toQuery, useUrlFilters } from "@/components/exec/filters";
import { Empty, ErrorState, Loading } from "@/components/states";
import { PageHeader } from "@/components/ui";

const KEYS = ["rule_ref", "status", "trigger_ref", "event"] as const;

export default function EnforcementList() {
  const state = useUrlFilters(KEYS);
  // own key prefix: refreshed by useLiveRefresh (throttled), not by every notification
  const list = useInfiniteList<Schemas["Enforcement"]>(
    ["enforcement-list"],
    "/api/v1/enforcements",
    toQuery(state.filters, { event: "int" }),
  );
  useLiveRefresh(["enforcement"], ["enforcement-list"]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  return (
    <div>
      <PageHeader
        title="Enforcements"
        subtitle={list.isPending ? "Loading…" : `${list.rows.length}${hasNextPage ? "+" : ""} shown · rules that matched an event, newest first`}
      />
      <FilterBar
        label="Enforcement filters"
        state={state}
        fields={[
          { key: "rule_ref", label: "Rule", placeholder: "pack.rule" },
          {
            key: "status",
            label: "Status",
            options: [
              { value: "", label: "Any status" },
              { value: "created", label: "created" },
              { value: "processed", label: "processed" },
              { value: "disabled", label: "disabled" },
            ],
          },
          { key: "trigger_ref", label: "Trigger", placeholder: "core.webhook" },
          { key: "event", label: "Event ID", placeholder: "42", numeric: true },
        ]}
      />
      {list.isPending ? (
        <Loading label="Loading enforcements…" />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <EnforcementTable
          rows={list.rows}
          label="Enforcements"
          onEndReached={loadMore}
          empty={<Empty title={state.active ? "No enforcement matches these filters" : "No enforcements yet"}>An enforcement is recorded each time a rule matches an event.</Empty>}
        />
      )}
      {isFetchingNextPage && <Loading label="Loading more…" />}
    </div>
  );
}
