// Rules: every rule with an enable/disable switch per row; search and state filter in the URL.
import { Plus } from "lucide-react";
import { Link } from "react-router";
import type { Schemas } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { ErrorState, Empty, Loading } from "@/components/states";
import { PageHeader, Select } from "@/components/ui";
import { EnableToggle, RefLink, SearchBox, filterRows, useAllRows, useQueryParam } from "@/components/catalog";

type Rule = Schemas["Rule"];

export default function RuleList() {
  const list = useAllRows<Rule>(["rules"], "/api/v1/rules");
  const [q] = useQueryParam("q");
  const [state, setState] = useQueryParam("state");
  const rows = filterRows(
    list.rows.filter((r) => !state || (state === "enabled") === r.enabled),
    q,
    (r) => [r.ref, r.label, r.description, r.trigger_ref, r.action_ref],
  );
  return (
    <div>
      <PageHeader
        title="Rules"
        subtitle="When a trigger fires and the conditions match, run an action."
        actions={
          <Link to="/rules/new" className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
            <Plus className="h-4 w-4" aria-hidden /> New rule
          </Link>
        }
      />
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <SearchBox label="Search rules" />
        <div className="w-40">
          <Select aria-label="State" value={state} onChange={(e) => setState(e.target.value, true)}>
            <option value="">All rules</option>
            <option value="enabled">Enabled</option>
            <option value="disabled">Disabled</option>
          </Select>
        </div>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Rules"
          rows={rows}
          rowKey={(r) => r.id}
          empty={<Empty title={q || state ? "No rule matches this search." : "No rules yet."}>{!q && !state && <RefLink to="/rules/new">Create the first rule</RefLink>}</Empty>}
          columns={[
            { key: "ref", header: "Rule", width: "minmax(12rem, 1.2fr)", cell: (r) => <RefLink to={`/rules/${encodeURIComponent(r.ref)}`}>{r.ref}</RefLink> },
            { key: "trigger", header: "Trigger", width: "minmax(10rem, 1fr)", cell: (r) => <RefLink to={`/triggers/${encodeURIComponent(r.trigger_ref)}`}>{r.trigger_ref}</RefLink> },
            { key: "action", header: "Action", width: "minmax(10rem, 1fr)", cell: (r) => <RefLink to={`/actions/${encodeURIComponent(r.action_ref)}`}>{r.action_ref}</RefLink> },
            { key: "description", header: "Description", width: "minmax(10rem, 1.5fr)", cell: (r) => <span className="truncate text-slate-600 dark:text-slate-400">{r.description}</span> },
            { key: "enabled", header: "Enabled", width: "9rem", cell: (r) => <EnableToggle enabled={r.enabled} base={`/api/v1/rules/${encodeURIComponent(r.ref)}`} label={`Rule ${r.ref}`} invalidate={["rules"]} /> },
          ]}
        />
      )}
    </div>
  );
}
