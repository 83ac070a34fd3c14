// The task list of a workflow execution, from the API's workflow state (task statuses and the
// conductor's decisions) and the child executions: each task's status, its executions, why it
// was dispatched, and every transition evaluated when it finished (taken or not, and why).
import type { Schemas } from "@/api/client";

type State = Schemas["WorkflowExecution"];
type Child = Schemas["ExecutionSummary"];

export interface TransitionOutcome {
  transition: string;
  when: string | null;
  value: boolean | null;
  fired: boolean;
  error: string | null;
}

export interface TaskRow {
  name: string;
  status: string;
  executions: Child[];
  /** Why the conductor dispatched it (one per run/attempt, deduplicated). */
  reasons: string[];
  /** Transitions of this task as the conductor evaluated them when it finished. */
  transitions: TransitionOutcome[];
}

const asRecord = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const asString = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function taskName(child: Pick<Child, "workflow_task">): string | null {
  return asString(asRecord(child.workflow_task).task_name);
}

export function workflowTaskRows(state: State | undefined, children: Child[]): TaskRow[] {
  const names: string[] = [];
  const add = (name: string | null) => {
    if (name && !names.includes(name)) names.push(name);
  };
  for (const name of (asRecord(state?.task_graph).tasks as unknown[]) ?? []) add(asString(name));
  for (const name of Object.keys(state?.tasks ?? {})) add(name);
  for (const child of children) add(taskName(child));

  const decisions = (state?.decisions ?? []).map(asRecord);
  return names.map((name) => {
    const executions = children.filter((c) => taskName(c) === name).sort((a, b) => a.id - b.id);
    const known = asString(asRecord(asRecord(state?.tasks)[name]).status);
    let status = known ?? "not reached";
    if (!known && state?.current_tasks.includes(name)) status = executions.at(-1)?.status ?? "running";
    else if (!known && executions.length) status = executions.at(-1)!.status;
    const reasons: string[] = [];
    const transitions = new Map<string, TransitionOutcome>();
    for (const d of decisions) {
      const why = asRecord(d.why);
      if (d.command === "DispatchTask" && d.task === name) {
        const message = asString(why.message);
        if (message && !reasons.includes(message)) reasons.push(message);
      }
      if (why.task === name && Array.isArray(why.evaluations)) {
        for (const e of why.evaluations.map(asRecord)) {
          const transition = asString(e.transition) ?? "?";
          const previous = transitions.get(transition);
          transitions.set(transition, {
            transition,
            when: asString(e.when),
            value: typeof e.value === "boolean" ? e.value : null,
            fired: Boolean(e.fired) || Boolean(previous?.fired),
            error: asString(e.error),
          });
        }
      }
    }
    return { name, status, executions, reasons, transitions: [...transitions.values()] };
  });
}
