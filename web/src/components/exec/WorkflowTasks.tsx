// A workflow execution's tasks as a list: each task's status, its executions, why the conductor
// dispatched it, and every transition it evaluated when the task finished (taken or not).
import { Link } from "react-router";
import type { Schemas } from "@/api/client";
import { Empty } from "@/components/states";
import { Badge, StatusBadge } from "@/components/ui";
import { workflowTaskRows } from "./workflowTasks";

export function WorkflowTasks(props: { state: Schemas["WorkflowExecution"] | undefined; children: Schemas["ExecutionSummary"][] }) {
  const rows = workflowTaskRows(props.state, props.children);
  if (!rows.length) return <Empty title="No task has started yet" />;
  return (
    <div>
      {props.state?.failures.length ? (
        <div role="note" className="mb-3 rounded border border-red-200 bg-red-50 p-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/40 dark:text-red-300">
          {props.state.failures.join("; ")}
        </div>
      ) : null}
      <ul aria-label="Workflow tasks" className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
        {rows.map((task) => (
          <li key={task.name} className="py-2" data-testid={`task-${task.name}`}>
            <div className="flex flex-wrap items-center gap-2">
              <span className="font-semibold">{task.name}</span>
              <StatusBadge status={task.status} />
              {task.executions.map((e) => (
                <Link key={e.id} to={`/executions/${e.id}`} className="font-mono text-xs text-indigo-700 hover:underline dark:text-indigo-300">
                  #{e.id}
                </Link>
              ))}
            </div>
            {task.reasons.map((r) => (
              <p key={r} className="mt-0.5 text-xs text-slate-600 dark:text-slate-300">
                <span className="font-medium">Dispatched: </span>
                {r}
              </p>
            ))}
            {task.transitions.length > 0 && (
              <ul aria-label={`Transitions of ${task.name}`} className="mt-1 space-y-0.5">
                {task.transitions.map((t) => (
                  <li key={t.transition} className="flex flex-wrap items-center gap-1.5 text-xs">
                    <Badge tone={t.fired ? "green" : "slate"}>{t.fired ? "taken" : "not taken"}</Badge>
                    <code className="font-mono">{t.transition}</code>
                    <span className="text-slate-500">
                      {t.when ? (
                        <>
                          when <code className="font-mono">{t.when}</code> → {t.error ? `error: ${t.error}` : String(t.value)}
                        </>
                      ) : (
                        "unconditional"
                      )}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
