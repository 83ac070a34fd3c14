// The executions table used by the list page, an enforcement's detail and a parent's children:
// virtualised rows that link to the execution, its status, action, origin and timing.
import type { Schemas } from "@/api/client";
import { type Column, DataTable } from "@/components/DataTable";
import { StatusBadge } from "@/components/ui";
import { duration, relativeTime } from "@/lib/format";
import { taskName } from "./workflowTasks";

type Row = Schemas["ExecutionSummary"];

export const TERMINAL = new Set(["completed", "failed", "cancelled", "timeout", "abandoned"]);

export const EXECUTION_STATUSES: Row["status"][] = [
  "requested",
  "scheduling",
  "scheduled",
  "running",
  "completed",
  "failed",
  "canceling",
  "cancelled",
  "timeout",
  "abandoned",
];

const COLUMNS: Column<Row>[] = [
  { key: "id", header: "ID", width: "5.5rem", cell: (r) => <span className="font-mono">#{r.id}</span> },
  { key: "status", header: "Status", width: "7.5rem", cell: (r) => <StatusBadge status={r.status} /> },
  {
    key: "action",
    header: "Action",
    width: "minmax(12rem, 2fr)",
    cell: (r) => (
      <span className="truncate font-medium text-indigo-700 dark:text-indigo-300" title={r.action_ref}>
        {r.action_ref}
        {taskName(r) && <span className="ml-2 font-normal text-slate-500">task {taskName(r)}</span>}
      </span>
    ),
  },
  {
    key: "origin",
    header: "Origin",
    width: "minmax(10rem, 1.5fr)",
    cell: (r) => (
      <span className="truncate text-slate-600 dark:text-slate-300" title={r.rule_ref ?? undefined}>
        {r.parent ? `child of #${r.parent}` : r.rule_ref ? `rule ${r.rule_ref}` : r.original_execution ? `re-run of #${r.original_execution}` : "manual"}
      </span>
    ),
  },
  {
    key: "started",
    header: "Created",
    width: "8rem",
    cell: (r) => <time dateTime={r.created} title={new Date(r.created).toLocaleString()}>{relativeTime(r.created)}</time>,
  },
  {
    key: "duration",
    header: "Duration",
    width: "7rem",
    cell: (r) => (r.started_at ? duration(r.started_at, TERMINAL.has(r.status) ? r.updated : null) : "—"),
  },
];

export function ExecutionTable(props: {
  rows: Row[];
  label: string;
  empty?: React.ReactNode;
  maxHeight?: string;
  onEndReached?: () => void;
  hideColumns?: string[];
}) {
  const columns = props.hideColumns ? COLUMNS.filter((c) => !props.hideColumns!.includes(c.key)) : COLUMNS;
  return (
    <DataTable
      rows={props.rows}
      columns={columns}
      rowKey={(r) => r.id}
      rowHref={(r) => `/executions/${r.id}`}
      label={props.label}
      empty={props.empty}
      maxHeight={props.maxHeight}
      onEndReached={props.onEndReached}
    />
  );
}
