// Automatic layout for workflows without chart positions, top to bottom.
//
// Small graphs use elkjs "layered" (best quality), loaded lazily as its own chunk so pages
// without graphs never download it. elkjs needs 0.5-3 s for 200 tasks on a loaded 2-core
// machine (measured), too slow for "a 200-task graph renders in under a second", so bigger
// graphs use `layeredLayout` below: the same Sugiyama steps (cycle breaking, longest-path
// layering, barycentric ordering sweeps, parent-centred placement), in a few milliseconds.
import type { Point, Task } from "./model";
import { SPECIAL_TARGETS } from "./model";

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;

interface ElkLike {
  layout(graph: unknown): Promise<{ children?: { id: string; x?: number; y?: number }[] }>;
}

let elk: Promise<ElkLike> | null = null;

function loadElk(): Promise<ElkLike> {
  elk ??= import("elkjs/lib/elk.bundled.js").then((m) => new m.default() as unknown as ElkLike);
  return elk;
}

/** Above this many tasks, the fast built-in layered layout is used instead of elkjs. */
export const ELK_MAX_TASKS = 60;
const GAP_X = 40;
const GAP_Y = 60;

function graphEdges(tasks: Task[]): [string, string][] {
  const byName = new Map(tasks.map((t) => [t.name, t.id]));
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const task of tasks) {
    for (const tr of task.next) {
      for (const target of tr.do) {
        const to = byName.get(target);
        if (!to || SPECIAL_TARGETS.has(target) || to === task.id || seen.has(`${task.id}>${to}`)) continue;
        seen.add(`${task.id}>${to}`);
        out.push([task.id, to]);
      }
    }
  }
  return out;
}

/** Fast layered layout (synchronous); positions are top-left corners keyed by task id. */
export function layeredLayout(tasks: Task[]): Map<string, Point> {
  const ids = tasks.map((t) => t.id);
  const succ = new Map<string, string[]>(ids.map((id) => [id, []]));
  const indeg = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const [a, b] of graphEdges(tasks)) {
    succ.get(a)!.push(b);
    indeg.set(b, indeg.get(b)! + 1);
  }
  // 1. break cycles: depth-first from entry tasks (then any unvisited) and drop back edges
  const state = new Map<string, 1 | 2>();
  const dag = new Map<string, string[]>(ids.map((id) => [id, []]));
  const roots = [...ids.filter((id) => indeg.get(id) === 0), ...ids];
  for (const root of roots) {
    if (state.has(root)) continue;
    const stack: [string, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const children = succ.get(top[0])!;
      if (top[1] >= children.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const next = children[top[1]++];
      const s = state.get(next);
      if (s === 1) continue; // back edge
      dag.get(top[0])!.push(next);
      if (s === undefined) {
        state.set(next, 1);
        stack.push([next, 0]);
      }
    }
  }
  // 2. longest-path layering (Kahn's order on the acyclic graph)
  const pred = new Map<string, string[]>(ids.map((id) => [id, []]));
  const remaining = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const [a, bs] of dag) for (const b of bs) {
    pred.get(b)!.push(a);
    remaining.set(b, remaining.get(b)! + 1);
  }
  const layer = new Map<string, number>();
  const queue = ids.filter((id) => remaining.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    layer.set(id, Math.max(0, ...pred.get(id)!.map((p) => layer.get(p)! + 1)));
    for (const b of dag.get(id)!) {
      remaining.set(b, remaining.get(b)! - 1);
      if (remaining.get(b) === 0) queue.push(b);
    }
  }
  const layers: string[][] = [];
  for (const id of ids) (layers[layer.get(id) ?? 0] ??= []).push(id);
  // 3. ordering: barycentric sweeps down and up
  const order = new Map<string, number>();
  const number = () => layers.forEach((l) => l?.forEach((id, i) => order.set(id, i)));
  number();
  const bary = (id: string, near: Map<string, string[]>) => {
    const n = near.get(id)!.filter((x) => order.has(x));
    return n.length ? n.reduce((sum, x) => sum + order.get(x)!, 0) / n.length : order.get(id)!;
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const seq = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const l of seq) {
      if (!l) continue;
      const keys = new Map(l.map((id) => [id, bary(id, down ? pred : dag)]));
      l.sort((a, b) => keys.get(a)! - keys.get(b)!);
      l.forEach((id, i) => order.set(id, i));
    }
  }
  // 4. coordinates: each task near the centre of its parents, kept apart within its row
  const step = NODE_WIDTH + GAP_X;
  const x = new Map<string, number>();
  layers.forEach((l, depth) => {
    if (!l) return;
    const want = l.map((id, i) => {
      const ps = pred.get(id)!.filter((p) => x.has(p));
      return depth > 0 && ps.length ? ps.reduce((s, p) => s + x.get(p)!, 0) / ps.length : i * step;
    });
    const placed: number[] = [];
    want.forEach((w, i) => placed.push(i === 0 ? w : Math.max(w, placed[i - 1] + step)));
    // shift left to balance how far tasks were pushed right of where they wanted to be
    const drift = placed.reduce((s, p, i) => s + (p - want[i]), 0) / placed.length;
    l.forEach((id, i) => x.set(id, placed[i] - drift));
  });
  const minX = Math.min(...x.values());
  const out = new Map<string, Point>();
  for (const id of ids) out.set(id, { x: x.get(id)! - minX, y: (layer.get(id) ?? 0) * (NODE_HEIGHT + GAP_Y) });
  return out;
}

/** Positions (top-left corners) for every task, keyed by task id. */
export async function autoLayout(tasks: Task[]): Promise<Map<string, Point>> {
  if (tasks.length > ELK_MAX_TASKS) return layeredLayout(tasks);
  const byName = new Map(tasks.map((t) => [t.name, t.id]));
  const edges: { id: string; sources: string[]; targets: string[] }[] = [];
  const seen = new Set<string>();
  for (const task of tasks) {
    for (const tr of task.next) {
      for (const target of tr.do) {
        const to = byName.get(target);
        if (!to || SPECIAL_TARGETS.has(target) || to === task.id) continue;
        const id = `${task.id}>${to}`;
        if (seen.has(id)) continue;
        seen.add(id);
        edges.push({ id, sources: [task.id], targets: [to] });
      }
    }
  }
  const engine = await loadElk();
  const result = await engine.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.spacing.nodeNode": "40",
      "elk.layered.spacing.nodeNodeBetweenLayers": "60",
      "elk.layered.cycleBreaking.strategy": "DEPTH_FIRST",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.separateConnectedComponents": "true",
    },
    children: tasks.map((t) => ({ id: t.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges,
  });
  const out = new Map<string, Point>();
  for (const child of result.children ?? []) out.set(child.id, { x: child.x ?? 0, y: child.y ?? 0 });
  return out;
}

/** Fill in missing positions: auto-layout when no task has one, else place new ones below. */
export async function withPositions(tasks: Task[]): Promise<Task[]> {
  if (tasks.every((t) => t.position)) return tasks;
  if (tasks.every((t) => !t.position)) {
    const positions = await autoLayout(tasks);
    return tasks.map((t) => ({ ...t, position: positions.get(t.id) ?? { x: 0, y: 0 } }));
  }
  let bottom = Math.max(...tasks.filter((t) => t.position).map((t) => t.position!.y)) + NODE_HEIGHT + 40;
  return tasks.map((t) => {
    if (t.position) return t;
    const position = { x: 0, y: bottom };
    bottom += NODE_HEIGHT + 40;
    return { ...t, position };
  });
}
