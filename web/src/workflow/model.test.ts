import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { connect, edgeKind, fromYaml, problemTask, removeTask, renameTask, toDefinition, toYaml } from "./model";

const FULL = `ref: demo.deploy
label: Deploy
version: 1.0.0
parameters:
  env: {type: string, required: true}
vars:
  - attempts: 0
tasks:
  - name: build
    action: demo.build
    input:
      env: "{{ parameters.env }}"
    retry: {count: 2, delay: 5, backoff: exponential}
    timeout: 600
    next:
      - when: "{{ succeeded() }}"
        publish:
          - artifact: "{{ result().url }}"
        do: [test, notify]
        label: main path
        color: "#22c55e"
        __chart_meta__:
          edge_waypoints:
            test: [{x: 10, y: 20}, {x: 30, y: 40}]
          label_positions:
            notify: {x: 5, y: 6}
      - when: "{{ failed() }}"
        do: fail
    __chart_meta__: {position: {x: 100, y: 40}}
  - name: test
    action: demo.test
    with_items: "{{ parameters.targets }}"
    concurrency: 3
    batch_size: 2
    next: [{do: notify}]
    custom_key: kept
  - name: notify
    join: all
    action: core.echo
output_map:
  url: "{{ workflow.artifact }}"
`;

describe("YAML <-> workflow model", () => {
  it("round trips tasks, transitions, join, with_items, retry and chart meta", () => {
    const once = fromYaml(FULL);
    expect(once.tasks.map((t) => t.name)).toEqual(["build", "test", "notify"]);
    const build = once.tasks[0];
    expect(build.position).toEqual({ x: 100, y: 40 });
    expect(build.retry).toEqual({ count: 2, delay: 5, backoff: "exponential" });
    expect(build.next[0].do).toEqual(["test", "notify"]);
    expect(build.next[0].waypoints?.test).toEqual([{ x: 10, y: 20 }, { x: 30, y: 40 }]);
    expect(build.next[0].labelPositions?.notify).toEqual({ x: 5, y: 6 });
    expect(build.next[1].do).toEqual(["fail"]);
    expect(once.tasks[1].with_items).toBe("{{ parameters.targets }}");
    expect(once.tasks[2].join).toBe("all");

    const text = toYaml(once);
    const twice = fromYaml(text);
    expect(toDefinition(twice)).toEqual(toDefinition(once));
    const doc = parse(text);
    const original = parse(FULL);
    // the same document, except single `do` targets normalised to lists
    original.tasks[0].next[1].do = ["fail"];
    original.tasks[1].next[0].do = ["notify"];
    expect(doc).toEqual(original);
    expect(Object.keys(doc)).toEqual(["ref", "label", "version", "parameters", "vars", "tasks", "output_map"]);
  });

  it("reads tasks as a map and legacy fields as next", () => {
    const wf = fromYaml(`tasks:
  a:
    action: x.a
    publish: {url: "{{ result().url }}"}
    on_success: b
    on_failure: [cleanup]
  b: {action: x.b, on_complete: cleanup}
  cleanup: {action: x.c}
`);
    expect(wf.tasks.map((t) => t.name)).toEqual(["a", "b", "cleanup"]);
    expect(wf.tasks[0].next).toEqual([
      { when: "{{ succeeded() }}", do: ["b"], publish: [{ url: "{{ result().url }}" }] },
      { when: "{{ failed() }}", do: ["cleanup"] },
    ]);
    expect(wf.tasks[1].next).toEqual([{ do: ["cleanup"] }]);
    const doc = toDefinition(wf) as { tasks: Record<string, unknown>[] };
    expect(doc.tasks[0]).not.toHaveProperty("on_success");
  });

  it("connects, renames and removes tasks keeping references consistent", () => {
    let wf = fromYaml("tasks:\n  - {name: a, action: x.a}\n  - {name: b, action: x.b}\n  - {name: c, action: x.c}\n");
    const [a, b] = wf.tasks;
    wf = connect(wf, a.id, "b", "succeeded");
    wf = connect(wf, a.id, "c", "succeeded");
    wf = connect(wf, a.id, "c", "failed");
    expect(wf.tasks[0].next).toEqual([
      { when: "{{ succeeded() }}", do: ["b", "c"] },
      { when: "{{ failed() }}", do: ["c"] },
    ]);
    wf = renameTask(wf, b.id, "bee");
    expect(wf.tasks[0].next[0].do).toEqual(["bee", "c"]);
    wf = removeTask(wf, wf.tasks[2].id);
    expect(wf.tasks[0].next[0].do).toEqual(["bee"]);
    expect(wf.tasks[0].next[1].do).toEqual([]);
  });

  it("classifies transitions and maps problems to tasks", () => {
    expect(edgeKind(undefined)).toBe("always");
    expect(edgeKind("{{ succeeded() }}")).toBe("succeeded");
    expect(edgeKind("failed()")).toBe("failed");
    expect(edgeKind("{{ result().code == 200 }}")).toBe("custom");
    const wf = fromYaml("tasks:\n  - {name: a}\n  - {name: b}\n");
    expect(problemTask("tasks[1].next[0].do[0]", wf.tasks)?.name).toBe("b");
    expect(problemTask("parameters.x", wf.tasks)).toBeUndefined();
  });
});
