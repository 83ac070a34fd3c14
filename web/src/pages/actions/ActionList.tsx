// Actions: every action, searchable by ref, label, description, pack or tag (search and pack
// filter in the URL); links to the workflow builder.
import { Workflow } from "lucide-react";
import { Link } from "react-router";
import type { Schemas } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { ErrorState, Empty, Loading } from "@/components/states";
import { Badge, PageHeader, Select } from "@/components/ui";
import { SearchBox, filterRows, useAllRows, useQueryParam } from "@/components/catalog";

type Action = Schemas["Action"];

export default function ActionList() {
  const list = useAllRows<Action>(["actions"], "/api/v1/actions");
  const [q] = useQueryParam("q");
  const [pack, setPack] = useQueryParam("pack");
  const packs = [...new Set(list.rows.map((a) => a.pack_ref))].sort();
  const rows = filterRows(
    list.rows.filter((a) => !pack || a.pack_ref === pack),
    q,
    (a) => [a.ref, a.label, a.description, a.runtime_ref, ...(a.tags ?? [])],
  );
  return (
    <div>
      <PageHeader
        title="Actions"
        subtitle="What Attune can run: scripts, commands, HTTP calls and workflows."
        actions={
          <Link
            to="/actions/workflows/new"
            className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
          >
            <Workflow className="h-4 w-4" aria-hidden /> New workflow
          </Link>
        }
      />
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <SearchBox label="Search actions" />
        <div className="w-48">
          <Select aria-label="Pack" value={pack} onChange={(e) => setPack(e.target.value, true)}>
            <option value="">All packs</option>
            {packs.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </Select>
        </div>
        {!list.isPending && (
          <span className="text-sm text-slate-500 dark:text-slate-400" aria-live="polite">
            {rows.length} of {list.rows.length}
          </span>
        )}
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Actions"
          rows={rows}
          rowKey={(a) => a.id}
          rowHref={(a) => `/actions/${encodeURIComponent(a.ref)}`}
          empty={<Empty title={q || pack ? "No action matches this search." : "No actions yet."} />}
          columns={[
            { key: "ref", header: "Ref", width: "minmax(12rem, 1.2fr)", cell: (a) => <span className="font-medium">{a.ref}</span> },
            { key: "description", header: "Description", width: "minmax(12rem, 3fr)", cell: (a) => <span className="truncate text-slate-600 dark:text-slate-400">{a.description || a.label}</span> },
            {
              key: "kind",
              header: "Runs on",
              width: "9rem",
              cell: (a) => (a.workflow_def ? <Badge tone="blue">workflow</Badge> : <span className="text-slate-600 dark:text-slate-400">{a.runtime_ref ?? "—"}</span>),
            },
            { key: "pack", header: "Pack", width: "8rem", cell: (a) => a.pack_ref },
          ]}
        />
      )}
    </div>
  );
}
