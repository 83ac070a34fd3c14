import { describe, expect, it } from "vitest";
import { autoLayout, layeredLayout, NODE_HEIGHT, NODE_WIDTH } from "./layout";
import { fromDefinition } from "./model";
import { bigWorkflow } from "./sample";

describe("auto layout", () => {
  it("lays out a 200-task workflow with no overlapping tasks", async () => {
    const wf = fromDefinition(bigWorkflow(200));
    let positions = new Map();
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      positions = await autoLayout(wf.tasks);
      console.log(`layout of 200 tasks: ${(performance.now() - started).toFixed(0)} ms`);
    }
    expect(positions.size).toBe(200);
    const boxes = [...positions.values()];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        const overlap = a.x < b.x + NODE_WIDTH && b.x < a.x + NODE_WIDTH && a.y < b.y + NODE_HEIGHT && b.y < a.y + NODE_HEIGHT;
        expect(overlap, `tasks ${i} and ${j} overlap`).toBe(false);
      }
    }
    // edges go downwards: a task is below the tasks that lead to it (acyclic sample)
    const byName = new Map(wf.tasks.map((t) => [t.name, positions.get(t.id)!]));
    for (const t of wf.tasks) for (const tr of t.next) for (const d of tr.do.filter((x) => x !== "fail")) expect(byName.get(d)!.y).toBeGreaterThan(byName.get(t.name)!.y);
  });
});

describe("small graphs", () => {
  it("elkjs lays out a small workflow with cycles, and the fast layout agrees on the layering", async () => {
    const wf = fromDefinition({
      tasks: [
        { name: "a", action: "x", next: [{ do: ["b", "c"] }] },
        { name: "b", action: "x", next: [{ do: "d" }] },
        { name: "c", action: "x", next: [{ do: "d" }, { when: "failed()", do: "a" }] },
        { name: "d", action: "x", join: "all" },
      ],
    });
    for (const positions of [await autoLayout(wf.tasks), layeredLayout(wf.tasks)]) {
      const y = (name: string) => positions.get(wf.tasks.find((t) => t.name === name)!.id)!.y;
      expect(y("a")).toBeLessThan(y("b"));
      expect(y("b")).toBe(y("c"));
      expect(y("c")).toBeLessThan(y("d"));
    }
  });
});
