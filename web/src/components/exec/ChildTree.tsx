// Child executions as a tree: each child lists its own children on demand (nested workflows).
import { ChevronDown, ChevronRight } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router";
import type { Schemas } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Button, StatusBadge } from "@/components/ui";
import { duration } from "@/lib/format";
import { TERMINAL } from "./ExecutionTable";
import { taskName } from "./workflowTasks";

type Row = Schemas["ExecutionSummary"];

function useChildren(parent: number) {
  return useInfiniteList<Row>(["executions", "children", parent], "/api/v1/executions", { parent });
}

function Node({ row, depth }: { row: Row; depth: number }) {
  const [open, setOpen] = useState(false);
  return (
    <li>
      <div className="flex items-center gap-2 py-1" style={{ paddingLeft: depth * 18 }}>
        <button
          className="rounded p-0.5 text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800"
          aria-expanded={open}
          aria-label={`${open ? "Hide" : "Show"} children of execution ${row.id}`}
          onClick={() => setOpen(!open)}
        >
          {open ? <ChevronDown className="h-3.5 w-3.5" aria-hidden /> : <ChevronRight className="h-3.5 w-3.5" aria-hidden />}
        </button>
        <Link to={`/executions/${row.id}`} className="font-mono text-indigo-700 hover:underline dark:text-indigo-300">
          #{row.id}
        </Link>
        <StatusBadge status={row.status} />
        {taskName(row) && <span className="font-medium">{taskName(row)}</span>}
        <span className="truncate text-slate-600 dark:text-slate-300">{row.action_ref}</span>
        <span className="ml-auto shrink-0 text-xs text-slate-500">
          {row.started_at ? duration(row.started_at, TERMINAL.has(row.status) ? row.updated : null) : ""}
        </span>
      </div>
      {open && <Children parent={row.id} depth={depth + 1} />}
    </li>
  );
}

function Children({ parent, depth }: { parent: number; depth: number }) {
  const list = useChildren(parent);
  if (list.isPending) return <Loading label="Loading children…" />;
  if (list.error) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  if (!list.rows.length)
    return (
      <p className="py-1 text-xs text-slate-500" style={{ paddingLeft: depth * 18 + 24 }}>
        No child executions.
      </p>
    );
  const rows = [...list.rows].sort((a, b) => a.id - b.id);
  return (
    <ul>
      {rows.map((r) => (
        <Node key={r.id} row={r} depth={depth} />
      ))}
      {list.hasNextPage && (
        <li style={{ paddingLeft: depth * 18 }}>
          <Button size="sm" variant="ghost" onClick={() => void list.fetchNextPage()}>
            Load more children
          </Button>
        </li>
      )}
    </ul>
  );
}

/** The tree under `parent`, or an empty state when it has no children. */
export function ChildTree({ parent }: { parent: number }) {
  const list = useChildren(parent);
  if (list.isPending) return <Loading label="Loading children…" />;
  if (list.error) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  if (!list.rows.length) return <Empty title="No child executions" />;
  return (
    <nav aria-label="Child executions" className="text-sm">
      <Children parent={parent} depth={0} />
    </nav>
  );
}
