// Sensors: every sensor with its trigger and an enable/disable switch; search in the URL.
import type { Schemas } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { ErrorState, Empty, Loading } from "@/components/states";
import { PageHeader } from "@/components/ui";
import { EnableToggle, RefLink, SearchBox, filterRows, useAllRows, useQueryParam } from "@/components/catalog";

type Sensor = Schemas["Sensor"];

export default function SensorList() {
  const list = useAllRows<Sensor>(["sensors"], "/api/v1/sensors");
  const [q] = useQueryParam("q");
  const rows = filterRows(list.rows, q, (s) => [s.ref, s.label, s.description, s.trigger_ref, ...(s.trigger_types ?? [])]);
  return (
    <div>
      <PageHeader title="Sensors" subtitle="Processes that watch the outside world and report events." />
      <div className="mb-3">
        <SearchBox label="Search sensors" />
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Sensors"
          rows={rows}
          rowKey={(s) => s.id}
          empty={<Empty title={q ? "No sensor matches this search." : "No sensors yet."}>{!q && "Sensors come with packs."}</Empty>}
          columns={[
            { key: "ref", header: "Sensor", width: "minmax(12rem, 1.2fr)", cell: (s) => <RefLink to={`/sensors/${encodeURIComponent(s.ref)}`}>{s.ref}</RefLink> },
            {
              key: "trigger",
              header: "Triggers",
              width: "minmax(10rem, 1fr)",
              cell: (s) => {
                const refs = s.trigger_types?.length ? s.trigger_types : s.trigger_ref ? [s.trigger_ref] : [];
                return <span className="truncate">{refs.join(", ") || "—"}</span>;
              },
            },
            { key: "runtime", header: "Runtime", width: "8rem", cell: (s) => s.runtime_ref ?? "—" },
            { key: "description", header: "Description", width: "minmax(10rem, 1.5fr)", cell: (s) => <span className="truncate text-slate-600 dark:text-slate-400">{s.description}</span> },
            { key: "enabled", header: "Enabled", width: "9rem", cell: (s) => <EnableToggle enabled={s.enabled} base={`/api/v1/sensors/${encodeURIComponent(s.ref)}`} label={`Sensor ${s.ref}`} invalidate={["sensors"]} /> },
          ]}
        />
      )}
    </div>
  );
}
