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
import { dateTime } from "@/lib/format";

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
                    ["Status", sensor.enabled ? "enabled: runs on the sensor hosts" : "disabled: not running"],
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
            <SensorLogs sensor={sensor.ref} />
          </div>
        );
      }}
    </QueryState>
  );
}

function SensorLogs({ sensor }: { sensor: string }) {
  const logs = useQuery({
    queryKey: ["sensors", sensor, "logs"],
    refetchInterval: 5_000,
    queryFn: () => unwrap(api.GET("/api/v1/sensors/{ref}/logs", { params: { path: { ref: sensor } } })).then((b) => b.data.logs),
  });
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
