// One event: its trigger, source, payload, and the enforcements (rule matches) it caused,
// each linking to the executions it started.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { ApiError, type Schemas } from "@/api/client";
import { getJson, useInfiniteList } from "@/api/lists";
import { EnforcementTable } from "@/components/exec/EntityTables";
import { JsonView } from "@/components/JsonView";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Card, PageHeader, Properties } from "@/components/ui";
import { dateTime } from "@/lib/format";

const link = "text-indigo-700 hover:underline dark:text-indigo-300";

export default function EventDetail() {
  const id = Number(useParams().id);
  const event = useQuery({
    queryKey: ["events", id],
    queryFn: () => getJson<{ data: Schemas["Event"] }>(`/api/v1/events/${id}`).then((b) => b.data),
    enabled: Number.isInteger(id) && id > 0,
  });
  const enforcements = useInfiniteList<Schemas["Enforcement"]>(["enforcements", "by-event", id], "/api/v1/enforcements", { event: id });
  if (!Number.isInteger(id) || id <= 0) return <ErrorState error={new Error("Not an event id.")} />;
  if (event.isPending) return <Loading label="Loading event…" />;
  if (event.error)
    return (
      <ErrorState
        error={event.error instanceof ApiError && event.error.status === 404 ? new Error(`Event ${id} does not exist.`) : event.error}
        retry={() => event.refetch()}
      />
    );
  const e = event.data;
  return (
    <div className="space-y-4">
      <PageHeader
        title={`Event #${e.id}`}
        subtitle={
          <Link to={`/triggers/${encodeURIComponent(e.trigger_ref)}`} className={link}>
            {e.trigger_ref}
          </Link>
        }
      />
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Overview">
          <Properties
            items={[
              ["Trigger", <Link key="t" to={`/triggers/${encodeURIComponent(e.trigger_ref)}`} className={link}>{e.trigger_ref}</Link>],
              ["Received", dateTime(e.created)],
              ["Source", e.source_ref ? <Link key="s" to={`/sensors/${encodeURIComponent(e.source_ref)}`} className={link}>{e.source_ref}</Link> : "API / webhook"],
              ["For rule", e.rule_ref ? <Link key="r" to={`/rules/${encodeURIComponent(e.rule_ref)}`} className={link}>{e.rule_ref}</Link> : "every matching rule"],
              ["Enforcements", enforcements.isPending ? "…" : `${enforcements.rows.length}${enforcements.hasNextPage ? "+" : ""}`],
            ]}
          />
        </Card>
        <Card title="Payload">
          {e.has_payload || Object.keys(e.payload ?? {}).length ? <JsonView value={e.payload} label="Payload" /> : <p className="text-sm text-slate-500">This event has no payload.</p>}
          {e.config && Object.keys(e.config).length > 0 && (
            <div className="mt-3">
              <h3 className="mb-1 text-xs font-semibold uppercase text-slate-500">Trigger configuration</h3>
              <JsonView value={e.config} label="Trigger configuration" />
            </div>
          )}
        </Card>
      </div>
      <Card title="Enforcements of this event">
        {enforcements.isPending ? (
          <Loading />
        ) : enforcements.error ? (
          <ErrorState error={enforcements.error} retry={() => enforcements.refetch()} />
        ) : (
          <EnforcementTable
            rows={enforcements.rows}
            label="Enforcements of this event"
            maxHeight="24rem"
            onEndReached={() => enforcements.hasNextPage && !enforcements.isFetchingNextPage && void enforcements.fetchNextPage()}
            empty={<Empty title="No rule matched this event" />}
          />
        )}
      </Card>
    </div>
  );
}
