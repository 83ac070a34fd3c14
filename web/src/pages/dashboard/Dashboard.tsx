// The operator's overview: executions by status, throughput (with event and enforcement
// volume), failure rate and workers over a time range kept in the URL (?range=24h); live
// notifications refresh it. Charts load in their own chunk.
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { Link, useSearchParams } from "react-router";
import type { Schemas } from "@/api/client";
import { getJson, type Page } from "@/api/lists";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Card, cx, PageHeader, StatusBadge } from "@/components/ui";
import { relativeTime } from "@/lib/format";
import { RANGES, rangeOf, timeline } from "./series";

const Charts = {
  Status: lazy(() => import("./Charts").then((m) => ({ default: m.StatusChart }))),
  Throughput: lazy(() => import("./Charts").then((m) => ({ default: m.ThroughputChart }))),
  Failure: lazy(() => import("./Charts").then((m) => ({ default: m.FailureRing }))),
  Workers: lazy(() => import("./Charts").then((m) => ({ default: m.WorkerChart }))),
};

type Series = Schemas["Series"];
const one = <T,>(path: string, hours: number) => getJson<{ data: T }>(path, { hours }).then((b) => b.data);

function Stat(props: { label: string; value: React.ReactNode; to?: string; hint?: string }) {
  const body = (
    <>
      <p className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{props.label}</p>
      <p className="mt-1 text-2xl font-semibold">{props.value}</p>
      {props.hint && <p className="text-xs text-slate-500">{props.hint}</p>}
    </>
  );
  const box = "block rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900";
  return props.to ? (
    <Link to={props.to} className={cx(box, "hover:border-indigo-400")} aria-label={`${props.label}: ${typeof props.value === "string" || typeof props.value === "number" ? props.value : ""}`}>
      {body}
    </Link>
  ) : (
    <div className={box}>{body}</div>
  );
}

export default function Dashboard() {
  const [params, setParams] = useSearchParams();
  const range = rangeOf(params.get("range"));
  const overview = useQuery({
    queryKey: ["dashboard", "overview", range.hours],
    queryFn: () => one<Schemas["Dashboard"]>("/api/v1/analytics/dashboard", range.hours),
  });
  const series = useQuery({
    queryKey: ["dashboard", "series", range.hours],
    queryFn: async () => {
      const [executions, events, enforcements] = await Promise.all([
        one<Series>("/api/v1/analytics/executions/throughput", range.hours),
        one<Series>("/api/v1/analytics/events/volume", range.hours),
        one<Series>("/api/v1/analytics/enforcements/volume", range.hours),
      ]);
      return timeline(
        { executions: executions.points, events: events.points, enforcements: enforcements.points },
        executions.since,
        executions.until,
        range.step,
      );
    },
  });
  const stats = useQuery({
    queryKey: ["executions", "stats"],
    queryFn: () => getJson<{ data: Schemas["ExecutionStats"] }>("/api/v1/executions/stats").then((b) => b.data),
  });
  const failures = useQuery({
    queryKey: ["executions", "recent-failures"],
    queryFn: () =>
      getJson<Page<Schemas["ExecutionSummary"]>>("/api/v1/executions", { status: "failed,timeout,abandoned", page_size: 6 }),
  });

  const o = overview.data;
  return (
    <div className="space-y-4">
      <PageHeader
        title="Dashboard"
        subtitle={o ? `${new Date(o.since).toLocaleString()} – ${new Date(o.until).toLocaleString()}` : "Overview"}
        actions={
          <div role="group" aria-label="Time range" className="inline-flex overflow-hidden rounded-md border border-slate-300 dark:border-slate-700">
            {RANGES.map((r) => (
              <button
                key={r.id}
                aria-pressed={r.id === range.id}
                className={cx(
                  "px-3 py-1.5 text-sm",
                  r.id === range.id ? "bg-indigo-600 text-white" : "bg-white hover:bg-slate-50 dark:bg-slate-900 dark:hover:bg-slate-800",
                )}
                onClick={() => setParams((p) => {
                  const next = new URLSearchParams(p);
                  next.set("range", r.id);
                  return next;
                })}
                title={`Last ${r.label}`}
              >
                {r.id}
              </button>
            ))}
          </div>
        }
      />
      {overview.isPending ? (
        <Loading label="Loading figures…" />
      ) : overview.error ? (
        <ErrorState error={overview.error} retry={() => overview.refetch()} />
      ) : (
        o && (
          <>
            <div className="grid grid-cols-2 gap-3 lg:grid-cols-5">
              <Stat label="Executions" value={o.executions_total} hint={`in the last ${range.label}`} to="/executions" />
              <Stat label="Running now" value={stats.data?.active ?? "…"} hint="not ended" to="/executions?status=requested%2Cscheduling%2Cscheduled%2Crunning%2Ccanceling" />
              <Stat label="Failure rate" value={`${o.failure_rate.failure_rate_pct.toFixed(1)}%`} hint={`${o.failure_rate.failed_count + o.failure_rate.timeout_count} of ${o.failure_rate.total_terminal} ended`} to="/executions?status=failed%2Ctimeout%2Cabandoned" />
              <Stat label="Events" value={o.events_total} hint={`in the last ${range.label}`} to="/events" />
              <Stat label="Enforcements" value={o.enforcements_total} hint={`in the last ${range.label}`} to="/enforcements" />
            </div>
            <Suspense fallback={<Loading label="Loading charts…" />}>
              <div className="grid gap-4 xl:grid-cols-3">
                <Card title="Throughput" className="xl:col-span-2">
                  {series.isPending ? (
                    <Loading />
                  ) : series.error ? (
                    <ErrorState error={series.error} retry={() => series.refetch()} />
                  ) : (
                    <figure aria-label="Executions, events and enforcements over time">
                      <Charts.Throughput points={series.data} stepHours={range.step} />
                    </figure>
                  )}
                </Card>
                <Card title="Failure rate">
                  <figure aria-label="Failure rate">
                    <Charts.Failure rate={o.failure_rate} />
                  </figure>
                </Card>
                <Card title="Executions by status" className="xl:col-span-2">
                  {o.executions_by_status.length ? (
                    <figure aria-label="Executions by status">
                      <Charts.Status points={o.executions_by_status} />
                      <figcaption className="mt-2 flex flex-wrap gap-2 text-xs">
                        {o.executions_by_status.map((p) => (
                          <Link key={p.bucket} to={`/executions?status=${p.bucket}`} className="inline-flex items-center gap-1 hover:underline">
                            <StatusBadge status={p.bucket} /> {p.value}
                          </Link>
                        ))}
                      </figcaption>
                    </figure>
                  ) : (
                    <Empty title={`No executions in the last ${range.label}`} />
                  )}
                </Card>
                <Card title="Workers">
                  {o.workers_by_status.length ? (
                    <figure aria-label="Workers by status">
                      <Charts.Workers points={o.workers_by_status} />
                      <figcaption className="mt-2 text-xs">
                        <Link to="/workers" className="text-indigo-700 hover:underline dark:text-indigo-300">
                          {o.workers_by_status.reduce((n, p) => n + p.value, 0)} workers
                        </Link>
                      </figcaption>
                    </figure>
                  ) : (
                    <Empty title="No worker has registered" />
                  )}
                </Card>
              </div>
            </Suspense>
          </>
        )
      )}
      <Card
        title="Recent failures"
        actions={
          <Link to="/executions?status=failed%2Ctimeout%2Cabandoned" className="text-xs text-indigo-700 hover:underline dark:text-indigo-300">
            All failures
          </Link>
        }
      >
        {failures.isPending ? (
          <Loading />
        ) : failures.error ? (
          <ErrorState error={failures.error} retry={() => failures.refetch()} />
        ) : failures.data.items.length ? (
          <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
            {failures.data.items.map((e) => (
              <li key={e.id} className="flex items-center gap-3 py-1.5">
                <Link to={`/executions/${e.id}`} className="font-mono text-indigo-700 hover:underline dark:text-indigo-300">
                  #{e.id}
                </Link>
                <StatusBadge status={e.status} />
                <span className="truncate">{e.action_ref}</span>
                <span className="ml-auto shrink-0 text-xs text-slate-500">{relativeTime(e.updated)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <Empty title="No failed executions" />
        )}
      </Card>
    </div>
  );
}
