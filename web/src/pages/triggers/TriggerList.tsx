// Triggers: every trigger type (webhook state shown), searchable; create one.
import { Plus } from "lucide-react";
import { Link } from "react-router";
import type { Schemas } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { ErrorState, Empty, Loading } from "@/components/states";
import { Badge, PageHeader, StatusBadge } from "@/components/ui";
import { SearchBox, filterRows, useAllRows, useQueryParam } from "@/components/catalog";

type Trigger = Schemas["Trigger"];

export default function TriggerList() {
  const list = useAllRows<Trigger>(["triggers"], "/api/v1/triggers");
  const [q] = useQueryParam("q");
  const rows = filterRows(list.rows, q, (t) => [t.ref, t.label, t.description]);
  return (
    <div>
      <PageHeader
        title="Triggers"
        subtitle="Kinds of events: timers, webhooks and whatever sensors report."
        actions={
          <Link to="/triggers/new" className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
            <Plus className="h-4 w-4" aria-hidden /> New trigger
          </Link>
        }
      />
      <div className="mb-3">
        <SearchBox label="Search triggers" />
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Triggers"
          rows={rows}
          rowKey={(t) => t.id}
          rowHref={(t) => `/triggers/${encodeURIComponent(t.ref)}`}
          empty={<Empty title={q ? "No trigger matches this search." : "No triggers yet."} />}
          columns={[
            { key: "ref", header: "Ref", width: "minmax(12rem, 1.2fr)", cell: (t) => <span className="font-medium">{t.ref}</span> },
            { key: "description", header: "Description", width: "minmax(12rem, 3fr)", cell: (t) => <span className="truncate text-slate-600 dark:text-slate-400">{t.description || t.label}</span> },
            { key: "webhook", header: "Webhook", width: "7rem", cell: (t) => (t.webhook_enabled ? <Badge tone="green">on</Badge> : <span className="text-slate-400">off</span>) },
            { key: "state", header: "State", width: "7rem", cell: (t) => <StatusBadge status={t.enabled ? "enabled" : "disabled"} /> },
          ]}
        />
      )}
    </div>
  );
}
