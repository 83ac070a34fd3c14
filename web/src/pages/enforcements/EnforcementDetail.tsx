// One enforcement: the rule that matched, the event it matched, the resolved action
// parameters, and the execution(s) it started.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { ApiError, type Schemas } from "@/api/client";
import { getJson, useInfiniteList } from "@/api/lists";
import { ExecutionTable } from "@/components/exec/ExecutionTable";
import { JsonView } from "@/components/JsonView";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Card, PageHeader, Properties, StatusBadge } from "@/components/ui";
import { dateTime } from "@/lib/format";

const link = "text-indigo-700 hover:underline dark:text-indigo-300";

export default function EnforcementDetail() {
  const id = Number(useParams().id);
  const enforcement = useQuery({
    queryKey: ["enforcements", id],
    queryFn: () => getJson<{ data: Schemas["Enforcement"] }>(`/api/v1/enforcements/${id}`).then((b) => b.data),
    enabled: Number.isInteger(id) && id > 0,
  });
  const executions = useInfiniteList<Schemas["ExecutionSummary"]>(["executions", "by-enforcement", id], `/api/v1/enforcements/${id}/executions`);
  if (!Number.isInteger(id) || id <= 0) return <ErrorState error={new Error("Not an enforcement id.")} />;
  if (enforcement.isPending) return <Loading label="Loading enforcement…" />;
  if (enforcement.error)
    return (
      <ErrorState
        error={enforcement.error instanceof ApiError && enforcement.error.status === 404 ? new Error(`Enforcement ${id} does not exist.`) : enforcement.error}
        retry={() => enforcement.refetch()}
      />
    );
  const e = enforcement.data;
  return (
    <div className="space-y-4">
      <PageHeader
        title={
          <span className="flex items-center gap-3">
            Enforcement #{e.id} <StatusBadge status={e.status} />
          </span>
        }
        subtitle={
          <>
            rule{" "}
            <Link to={`/rules/${encodeURIComponent(e.rule_ref)}`} className={link}>
              {e.rule_ref}
            </Link>
            {e.event && (
              <>
                {" "}
                matched{" "}
                <Link to={`/events/${e.event}`} className={link}>
                  event #{e.event}
                </Link>
              </>
            )}
          </>
        }
      />
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Overview">
          <Properties
            items={[
              ["Status", <StatusBadge key="s" status={e.status} />],
              ["Rule", <Link key="r" to={`/rules/${encodeURIComponent(e.rule_ref)}`} className={link}>{e.rule_ref}</Link>],
              ["Trigger", <Link key="t" to={`/triggers/${encodeURIComponent(e.trigger_ref)}`} className={link}>{e.trigger_ref}</Link>],
              ["Event", e.event ? <Link key="e" to={`/events/${e.event}`} className={link}>#{e.event}</Link> : "—"],
              ["Created", dateTime(e.created)],
              ["Resolved", dateTime(e.resolved_at)],
              ["Condition", `${e.condition} of the criteria`],
            ]}
          />
          {e.conditions !== null && e.conditions !== undefined && (
            <div className="mt-3">
              <h3 className="mb-1 text-xs font-semibold uppercase text-slate-500">Criteria</h3>
              <JsonView value={e.conditions} label="Criteria" />
            </div>
          )}
        </Card>
        <Card title="Resolved parameters">
          {e.config && Object.keys(e.config).length ? <JsonView value={e.config} label="Resolved parameters" /> : <p className="text-sm text-slate-500">No parameters.</p>}
          <div className="mt-3">
            <h3 className="mb-1 text-xs font-semibold uppercase text-slate-500">Event payload</h3>
            <JsonView value={e.payload} label="Event payload" />
          </div>
        </Card>
      </div>
      <Card title="Executions started">
        {executions.isPending ? (
          <Loading />
        ) : executions.error ? (
          <ErrorState error={executions.error} retry={() => executions.refetch()} />
        ) : (
          <ExecutionTable
            rows={executions.rows}
            label="Executions of this enforcement"
            maxHeight="24rem"
            hideColumns={["origin"]}
            onEndReached={() => executions.hasNextPage && !executions.isFetchingNextPage && void executions.fetchNextPage()}
            empty={<Empty title={e.status === "created" ? "No execution yet" : "This enforcement started no execution"} />}
          />
        )}
      </Card>
    </div>
  );
}
