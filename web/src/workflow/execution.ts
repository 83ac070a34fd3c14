// What a workflow execution says about its graph: each task's latest status, the transitions
// taken, and the conductor's explanations per task (pure functions, unit tested).
import type { Schemas } from "@/api/client";

export interface Evaluation {
  transition: string;
  when: string | null;
  value: unknown;
  fired: boolean;
  error: string | null;
}

export interface Why {
  message: string;
  task: string | null;
  run: number | null;
  transition: string | null;
  evaluations: Evaluation[];
}

export interface TaskRuns {
  status: string;
  runs: number;
  executions: number[];
}

type Child = Schemas["ExecutionSummary"];
type Decision = Schemas["WorkflowExecution"]["decisions"][number];

function asWhy(value: unknown): Why | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  return {
    message: String(v.message ?? ""),
    task: (v.task as string | null) ?? null,
    run: (v.run as number | null) ?? null,
    transition: (v.transition as string | null) ?? null,
    evaluations: Array.isArray(v.evaluations) ? (v.evaluations as Evaluation[]) : [],
  };
}

/** Per task name: the status of its newest child execution, its runs and executions. */
export function taskStatuses(children: Child[]): Map<string, TaskRuns> {
  const out = new Map<string, TaskRuns & { newest: number; runSet: Set<unknown> }>();
  for (const child of children) {
    const wt = (child.workflow_task ?? {}) as Record<string, unknown>;
    const name = wt.task_name;
    if (typeof name !== "string") continue;
    const entry = out.get(name) ?? { status: child.status, runs: 0, executions: [], newest: -1, runSet: new Set() };
    entry.executions.push(child.id);
    entry.runSet.add(wt.run ?? child.id);
    if (child.id > entry.newest) {
      entry.newest = child.id;
      entry.status = child.status;
    }
    out.set(name, entry);
  }
  return new Map(
    [...out].map(([k, v]) => [k, { status: v.status, runs: v.runSet.size, executions: v.executions.sort((a, b) => a - b) }]),
  );
}

/** Every explanation the run carries: the conductor's decisions, and each child's dispatch reason. */
export function explanations(decisions: Decision[], children: Child[]): { command: string; target?: string; why: Why }[] {
  const out: { command: string; target?: string; why: Why }[] = [];
  const seen = new Set<string>();
  const add = (command: string, target: string | undefined, why: Why | null) => {
    if (!why) return;
    const key = `${command}|${target}|${why.task}|${why.run}|${why.transition}|${why.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ command, target, why });
  };
  for (const d of decisions) add(String(d.command ?? ""), typeof d.task === "string" ? d.task : undefined, asWhy(d.why));
  for (const c of children) {
    const wt = (c.workflow_task ?? {}) as Record<string, unknown>;
    add("DispatchTask", typeof wt.task_name === "string" ? wt.task_name : undefined, asWhy(wt.why));
  }
  return out;
}

/** Keys `source|index|target` of the transitions that fired and reached a task. */
export function takenTransitions(
  items: { command: string; target?: string; why: Why }[],
  nextOf: (task: string) => { do: string[] }[] | undefined,
): Set<string> {
  const taken = new Set<string>();
  for (const { command, target, why } of items) {
    if (command !== "DispatchTask" || !target || !why.task || why.task === target && !why.transition) continue;
    const m = /next\[(\d+)\]/.exec(why.transition ?? "");
    if (m) {
      taken.add(`${why.task}|${m[1]}|${target}`);
      continue;
    }
    // legacy names (on_success...) or no index: every transition of the task reaching the target
    nextOf(why.task)?.forEach((tr, i) => {
      if (tr.do.includes(target) && why.transition) taken.add(`${why.task}|${i}|${target}`);
    });
  }
  return taken;
}

/** The explanations about what happened after `task` finished (its transitions, taken or not). */
export function reasonsFor(task: string, items: { command: string; target?: string; why: Why }[]) {
  const seen = new Set<string>();
  return items.filter((i) => {
    if (i.why.task !== task || (i.command === "DispatchTask" && i.target === task && !i.why.transition)) return false;
    const key = `${i.why.run}|${i.why.transition}|${i.command}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
