// Workers: status, role, capabilities, heartbeat age (ticking), cordon/uncordon. Live: the
// notifier does not announce worker rows, so the list is re-read every 10 s (heartbeats) and
// whenever an execution notification names a worker (it may have become busy or idle).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Ban, Play } from "lucide-react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { errorText } from "@/components/Confirm";
import { type Column, DataTable } from "@/components/DataTable";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge, Button, cx, Field, PageHeader, Select, StatusBadge } from "@/components/ui";
import { type Notification, useNotifications } from "@/lib/live";
import { ageText, capabilityList, freshness, heartbeatAge } from "./heartbeat";

type Worker = Schemas["Worker"];

const STATUSES = ["active", "busy", "inactive", "error"] as const;
const ROLES = ["action", "sensor", "hybrid"] as const;
const FRESH_TONE = { fresh: "text-green-700 dark:text-green-400", late: "text-amber-700 dark:text-amber-400", stale: "text-red-700 dark:text-red-400", never: "text-slate-500" };

function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function CordonButton({ worker }: { worker: Worker }) {
  const client = useQueryClient();
  const action = worker.cordoned ? "uncordon" : "cordon";
  const mutation = useMutation({
    mutationFn: () =>
      worker.cordoned
        ? unwrap(api.POST("/api/v1/workers/{id}/uncordon", { params: { path: { id: worker.id } } }))
        : unwrap(api.POST("/api/v1/workers/{id}/cordon", { params: { path: { id: worker.id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ["workers"] }),
  });
  return (
    <span className="flex items-center gap-1">
      <Button
        size="sm"
        variant={worker.cordoned ? "secondary" : "ghost"}
        aria-label={`${worker.cordoned ? "Uncordon" : "Cordon"} ${worker.name}`}
        title={worker.cordoned ? "Send work to this worker again" : "Stop sending new work to this worker"}
        disabled={mutation.isPending}
        onClick={() => mutation.mutate()}
      >
        {worker.cordoned ? <Play className="h-3.5 w-3.5" aria-hidden /> : <Ban className="h-3.5 w-3.5" aria-hidden />}
        {action}
      </Button>
      {mutation.error && <span role="alert" className="truncate text-xs text-red-600" title={errorText(mutation.error)}>failed</span>}
    </span>
  );
}

export default function WorkerList() {
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const role = params.get("role") ?? "";
  const now = useNow();
  const client = useQueryClient();
  const list = useInfiniteList<Worker>(["workers"], "/api/v1/workers");
  useEffect(() => {
    const timer = setInterval(() => void client.invalidateQueries({ queryKey: ["workers"] }), 10_000);
    return () => clearInterval(timer);
  }, [client]);

  useNotifications(
    useCallback(
      (n: Notification) => {
        if (n.entity_type === "execution" && n.payload.worker != null) void client.invalidateQueries({ queryKey: ["workers"] });
      },
      [client],
    ),
  );

  const rows = useMemo(
    () => list.rows.filter((w) => (!status || w.status === status) && (!role || w.worker_role === role)),
    [list.rows, status, role],
  );
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const w of list.rows) c[w.status] = (c[w.status] ?? 0) + 1;
    return c;
  }, [list.rows]);

  const columns: Column<Worker>[] = [
    {
      key: "name",
      header: "Worker",
      width: "minmax(12rem, 2fr)",
      cell: (w) => (
        <span className="min-w-0 truncate" title={`${w.name} (id ${w.id})`}>
          <span className="font-medium">{w.name}</span>
          <span className="ml-2 text-xs text-slate-500">{w.host}{w.port ? `:${w.port}` : ""}</span>
        </span>
      ),
    },
    {
      key: "status",
      header: "Status",
      width: "9rem",
      cell: (w) => (
        <span className="flex gap-1">
          <StatusBadge status={w.status} />
          {w.cordoned && <Badge tone="amber">cordoned</Badge>}
        </span>
      ),
    },
    { key: "role", header: "Role / type", width: "9rem", cell: (w) => <span>{w.worker_role} · {w.worker_type}</span> },
    {
      key: "capabilities",
      header: "Capabilities",
      width: "minmax(12rem, 2fr)",
      cell: (w) => {
        const { runtimes, other } = capabilityList(w.capabilities);
        const title = [`runtimes: ${runtimes.join(", ") || "none"}`, ...other.map(([k, v]) => `${k}: ${v}`)].join("\n");
        return (
          <span className="flex min-w-0 items-center gap-1 overflow-hidden" title={title}>
            {runtimes.map((r) => (
              <Badge key={r} tone="blue">{r === "*" ? "all runtimes" : r}</Badge>
            ))}
            {other.map(([k, v]) => (
              <span key={k} className="truncate text-xs text-slate-500">{k.replace(/_/g, " ")}: {v}</span>
            ))}
          </span>
        );
      },
    },
    {
      key: "heartbeat",
      header: "Last heartbeat",
      width: "9rem",
      cell: (w) => {
        const age = heartbeatAge(w.last_heartbeat, now);
        const state = freshness(age);
        return (
          <span className={cx("tabular-nums", FRESH_TONE[state])} title={w.last_heartbeat ?? "never"} data-testid={`heartbeat-${w.id}`}>
            {age === null ? "never" : `${ageText(age)} ago`}
          </span>
        );
      },
    },
    { key: "cordon", header: <span className="sr-only">Actions</span>, width: "8rem", cell: (w) => <CordonButton worker={w} /> },
  ];

  return (
    <div>
      <PageHeader
        title="Workers"
        subtitle={
          list.rows.length
            ? STATUSES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(" · ")
            : "Processes that run actions; a cordoned worker gets no new work."
        }
      />
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <div className="w-36">
          <Field label="Status" htmlFor="filter-status">
            <Select id="filter-status" value={status} onChange={(e) => setFilter("status", e.target.value)}>
              <option value="">any</option>
              {STATUSES.map((s) => <option key={s}>{s}</option>)}
            </Select>
          </Field>
        </div>
        <div className="w-36">
          <Field label="Role" htmlFor="filter-role">
            <Select id="filter-role" value={role} onChange={(e) => setFilter("role", e.target.value)}>
              <option value="">any</option>
              {ROLES.map((r) => <option key={r}>{r}</option>)}
            </Select>
          </Field>
        </div>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Workers"
          rows={rows}
          columns={columns}
          rowKey={(w) => w.id}
          onEndReached={list.hasNextPage ? () => void list.fetchNextPage() : undefined}
          empty={<Empty title={list.rows.length ? "No worker matches these filters." : "No workers have registered yet."}>{!list.rows.length && <p>Start one with <code>attune serve worker</code> or <code>attune up</code>.</p>}</Empty>}
        />
      )}
    </div>
  );
}
