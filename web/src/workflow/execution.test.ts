import { describe, expect, it } from "vitest";
import type { Schemas } from "@/api/client";
import { explanations, reasonsFor, takenTransitions, taskStatuses } from "./execution";

const why = (task: string | null, transition: string | null, fired: boolean[]) => ({
  message: `${transition} of task "${task}" fired`,
  task,
  run: 1,
  transition,
  evaluations: fired.map((f, i) => ({ transition: `next[${i}]`, when: i ? "{{ failed() }}" : "{{ succeeded() }}", value: f, fired: f, error: null })),
});

function child(id: number, task: string, status: string, run = 1, w: unknown = null): Schemas["ExecutionSummary"] {
  return {
    id,
    action_ref: "core.noop",
    status: status as Schemas["ExecutionSummary"]["status"],
    parent: 1,
    enforcement: null,
    rule_ref: null,
    trigger_ref: null,
    started_at: null,
    workflow_task: { task_name: task, run, why: w },
    original_execution: null,
    created: "",
    updated: "",
  } as Schemas["ExecutionSummary"];
}

describe("execution graph data", () => {
  it("takes the newest child's status per task and counts runs", () => {
    const s = taskStatuses([child(2, "a", "failed"), child(5, "a", "completed", 1), child(7, "b", "running"), child(9, "a", "running", 2)]);
    expect(s.get("a")).toEqual({ status: "running", runs: 2, executions: [2, 5, 9] });
    expect(s.get("b")?.status).toBe("running");
  });

  it("finds the transitions taken and the reasons for a task", () => {
    const decisions = [
      { command: "DispatchTask", task: "a", why: why(null, null, []) },
      { command: "DispatchTask", task: "b", why: why("a", "next[0]", [true, false]) },
      { command: "DispatchTask", task: "c", why: why("a", "next[0]", [true, false]) },
    ];
    const items = explanations(decisions, [child(3, "b", "completed", 1, why("a", "next[0]", [true, false]))]);
    const taken = takenTransitions(items, () => [{ do: ["b", "c"] }, { do: ["d"] }]);
    expect([...taken].sort()).toEqual(["a|0|b", "a|0|c"]);
    const reasons = reasonsFor("a", items);
    expect(reasons).toHaveLength(1);
    expect(reasons[0].why.evaluations.map((e) => e.fired)).toEqual([true, false]);
  });

  it("maps legacy transition names onto every transition reaching the target", () => {
    const items = [{ command: "DispatchTask", target: "b", why: why("a", "on_success", []) }];
    expect([...takenTransitions(items, () => [{ do: ["b"] }, { do: ["x"] }])]).toEqual(["a|0|b"]);
  });
});
