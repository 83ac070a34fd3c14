// One sensor: status (enabled or not) with a switch, what it reports, its configuration and
// parameters, and its log (refreshed every few seconds).
import { useQuery } from "@tanstack/react-query";
import { RefreshCw } from "lucide-react";
import { useParams } from "react-router";
import { api, unwrap } from "@/api/client";
import { ParameterTable } from "@/components/ParameterTable";
import { ErrorState, QueryState } from "@/components/states";
import { Button, Card, PageHeader, Properties, StatusBadge } from "@/components/ui";
import { EnableToggle, Json, RefLink } from "@/components/catalog";
import { dateTime, relativeTime } from "@/lib/format";

/** The sensor host's view of a sensor: its log and its process status (refreshed every few seconds). */
function useSensorRuntime(ref: string) {
  return useQuery({
    queryKey: ["sensors", ref, "logs"],
    refetchInterval: 5_000,
    queryFn: () => unwrap(api.GET("/api/v1/sensors/{ref}/logs", { params: { path: { ref } } })).then((b) => b.data),
  });
}

interface HostStatus {
  state?: string;
  pid?: number | null;
  started_at?: string | null;
  restarts?: number;
  crashes?: number;
  last_exit_code?: number | null;
  last_error?: string | null;
  events?: number;
  rejected_lines?: number;
}

function ProcessStatus({ sensor }: { sensor: string }) {
  const runtime = useSensorRuntime(sensor);
  const status = (runtime.data?.status ?? null) as HostStatus | null;
  if (runtime.isPending) return <p role="status" className="text-sm text-slate-500">Loading…</p>;
  if (runtime.error) return <ErrorState error={runtime.error} retry={() => runtime.refetch()} />;
  if (!status) return <p className="text-sm text-slate-500">The process runs on a separate sensor host; its status is not visible from this API.</p>;
  return (
    <Properties
      items={[
        ["Process", <StatusBadge status={status.state} />],
        ["PID", status.pid ?? "—"],
        ["Started", status.started_at ? `${dateTime(status.started_at)} (${relativeTime(status.started_at)})` : "—"],
        ["Events sent", String(status.events ?? 0)],
        ["Rejected lines", String(status.rejected_lines ?? 0)],
        ["Restarts in a row", String(status.restarts ?? 0)],
        ["Crashes", String(status.crashes ?? 0)],
        ["Last exit", status.last_exit_code === null || status.last_exit_code === undefined ? "—" : `code ${status.last_exit_code}`],
        ["Last error", status.last_error ? <span className="text-red-700 dark:text-red-400">{status.last_error}</span> : "—"],
      ]}
    />
  );
}

export default function SensorDetail() {
  const ref = useParams().ref!;
  const query = useQuery({
    queryKey: ["sensors", ref],
    queryFn: () => unwrap(api.GET("/api/v1/sensors/{ref}", { params: { path: { ref } } })).then((b) => b.data),
  });
  return (
    <QueryState query={query}>
      {(sensor) => {
        const triggers = sensor.trigger_types?.length ? sensor.trigger_types : sensor.trigger_ref ? [sensor.trigger_ref] : [];
        return (
          <div className="space-y-4">
            <PageHeader
              title={sensor.ref}
              subtitle={sensor.description || sensor.label}
              actions={<EnableToggle enabled={sensor.enabled} base={`/api/v1/sensors/${encodeURIComponent(sensor.ref)}`} label={`Sensor ${sensor.ref}`} invalidate={["sensors"]} />}
            />
            <div className="grid gap-4 xl:grid-cols-2">
              <Card title="About" actions={<StatusBadge status={sensor.enabled ? "enabled" : "disabled"} />}>
                <Properties
                  items={[
                    ["Status", sensor.enabled ? "enabled: runs while an enabled rule uses its triggers" : "disabled: never runs"],
                    ["Pack", sensor.pack_ref ? <RefLink to={`/packs/${encodeURIComponent(sensor.pack_ref)}`}>{sensor.pack_ref}</RefLink> : "—"],
                    [
                      "Reports",
                      triggers.length ? (
                        <span className="flex flex-wrap gap-2">
                          {triggers.map((t) => (
                            <RefLink key={t} to={`/triggers/${encodeURIComponent(t)}`}>
                              {t}
                            </RefLink>
                          ))}
                        </span>
                      ) : (
                        "—"
                      ),
                    ],
                    ["Runtime", sensor.runtime_ref ?? "—"],
                    ["Entry point", sensor.entrypoint ? <code className="break-all text-xs">{sensor.entrypoint}</code> : "—"],
                    ["Poll interval", sensor.poll_interval ? `${sensor.poll_interval} s` : "—"],
                    ["Updated", dateTime(sensor.updated)],
                  ]}
                />
              </Card>
              <Card title="Configuration">
                {Object.keys(sensor.config ?? {}).length > 0 ? <Json value={sensor.config} /> : <p className="text-sm text-slate-500">No configuration.</p>}
                <h3 className="mb-1 mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500">Parameters</h3>
                <ParameterTable schema={sensor.param_schema} />
              </Card>
            </div>
            <div className="grid gap-4 xl:grid-cols-[minmax(0,1fr)_minmax(0,2fr)]">
              <Card title="Process">
                <ProcessStatus sensor={sensor.ref} />
              </Card>
              <SensorLogs sensor={sensor.ref} />
            </div>
          </div>
        );
      }}
    </QueryState>
  );
}

function SensorLogs({ sensor }: { sensor: string }) {
  const runtime = useSensorRuntime(sensor);
  const logs = { ...runtime, data: runtime.data?.logs ?? [] };
  return (
    <Card
      title="Log"
      actions={
        <Button size="sm" variant="ghost" onClick={() => logs.refetch()} aria-label="Refresh log">
          <RefreshCw className={logs.isFetching ? "h-3.5 w-3.5 animate-spin" : "h-3.5 w-3.5"} aria-hidden /> Refresh
        </Button>
      }
    >
      {logs.isPending ? (
        <p role="status" className="text-sm text-slate-500">Loading…</p>
      ) : logs.error ? (
        <ErrorState error={logs.error} retry={() => logs.refetch()} />
      ) : logs.data.length === 0 ? (
        <p className="text-sm text-slate-500">Nothing logged yet.</p>
      ) : (
        <pre aria-label="Sensor log" className="max-h-96 overflow-auto whitespace-pre-wrap rounded-md bg-slate-950 p-3 font-mono text-xs text-slate-100">
          {logs.data.join("\n")}
        </pre>
      )}
    </Card>
  );
}
