import { describe, expect, it } from "vitest";
import type { Schemas } from "@/api/client";
import { workflowTaskRows } from "./workflowTasks";

const child = (id: number, task: string, status: Schemas["ExecutionSummary"]["status"]): Schemas["ExecutionSummary"] => ({
  id,
  action_ref: "core.noop",
  status,
  parent: 1,
  enforcement: null,
  rule_ref: null,
  trigger_ref: null,
  started_at: null,
  workflow_task: { task_name: task },
  original_execution: null,
  created: "2026-11-27T12:00:00Z",
  updated: "2026-11-27T12:00:00Z",
});

const state: Schemas["WorkflowExecution"] = {
  id: 1,
  execution: 1,
  workflow_def: 3,
  status: "running",
  current_tasks: ["second"],
  completed_tasks: [],
  failed_tasks: [],
  skipped_tasks: [],
  task_graph: { tasks: ["first", "second", "third"] },
  tasks: { first: { status: "succeeded", timed_out: false } },
  decisions: [
    { command: "DispatchTask", task: "first", why: { message: "entry task", task: null, evaluations: [] } },
    {
      command: "DispatchTask",
      task: "second",
      why: {
        message: "first succeeded: next[0] fired",
        task: "first",
        transition: "next[0]",
        evaluations: [
          { transition: "next[0]", when: "{{ succeeded() }}", value: true, fired: true, error: null },
          { transition: "next[1]", when: "{{ failed() }}", value: false, fired: false, error: null },
        ],
      },
    },
  ],
  failures: [],
  error_message: null,
  paused: false,
  pause_reason: null,
  created: "2026-11-27T12:00:00Z",
  updated: "2026-11-27T12:00:00Z",
};

describe("workflowTaskRows", () => {
  it("lists every task of the definition in order with its status and executions", () => {
    const rows = workflowTaskRows(state, [child(3, "second", "running"), child(2, "first", "completed")]);
    expect(rows.map((r) => [r.name, r.status, r.executions.map((e) => e.id)])).toEqual([
      ["first", "succeeded", [2]],
      ["second", "running", [3]],
      ["third", "not reached", []],
    ]);
  });

  it("gives the dispatch reason and every transition evaluated, taken or not", () => {
    const [first, second] = workflowTaskRows(state, []);
    expect(first.reasons).toEqual(["entry task"]);
    expect(second.reasons).toEqual(["first succeeded: next[0] fired"]);
    expect(first.transitions).toEqual([
      { transition: "next[0]", when: "{{ succeeded() }}", value: true, fired: true, error: null },
      { transition: "next[1]", when: "{{ failed() }}", value: false, fired: false, error: null },
    ]);
  });

  it("falls back to the child executions when there is no workflow state yet", () => {
    const rows = workflowTaskRows(undefined, [child(5, "only", "failed")]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: "only", status: "failed", reasons: [], transitions: [] });
  });
});
