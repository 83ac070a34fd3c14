// Events newest first: what triggers fired, filtered by trigger (or rule) in the query string.
// Live: new events refresh the loaded pages at most once a second (useLiveRefresh), so a busy
// timer or webhook never stalls scrolling.
import { useCallback } from "react";
import type { Schemas } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { EventTable } from "@/components/exec/EntityTables";
import { useLiveRefresh } from "@/components/exec/useLiveRefresh";
import { FilterBar } from "@/components/exec/FilterBar";
import { toQuery, useUrlFilters } from "@/components/exec/filters";
import { Empty, ErrorState, Loading } from "@/components/states";
import { PageHeader } from "@/components/ui";

const KEYS = ["trigger_ref", "rule_ref"] as const;

export default function EventList() {
  const state = useUrlFilters(KEYS);
  // own key prefix: refreshed by useLiveRefresh (throttled), not by every notification
  const list = useInfiniteList<Schemas["Event"]>(["event-list"], "/api/v1/events", toQuery(state.filters));
  useLiveRefresh(["event"], ["event-list"]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  return (
    <div>
      <PageHeader
        title="Events"
        subtitle={list.isPending ? "Loading…" : `${list.rows.length}${hasNextPage ? "+" : ""} shown · what triggers fired, newest first`}
      />
      <FilterBar
        label="Event filters"
        state={state}
        fields={[
          { key: "trigger_ref", label: "Trigger", placeholder: "core.intervaltimer" },
          { key: "rule_ref", label: "Rule", placeholder: "pack.rule" },
        ]}
      />
      {list.isPending ? (
        <Loading label="Loading events…" />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <EventTable
          rows={list.rows}
          label="Events"
          onEndReached={loadMore}
          empty={<Empty title={state.active ? "No event matches these filters" : "No events yet"}>Events appear when a sensor, timer or webhook fires a trigger.</Empty>}
        />
      )}
      {isFetchingNextPage && <Loading label="Loading more…" />}
    </div>
  );
}
