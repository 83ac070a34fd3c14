// The workflow file format (docs/workflows.md) as the builder edits it, and YAML <-> model
// conversion. A workflow *definition document* is not an API entity (the API stores it as an
// opaque object), so its shape is declared here, next to the code that reads and writes it.
//
// Round trip rules: unknown keys at every level are kept verbatim (in `extra`), transitions keep
// their order, `do` is always written as a list, and visual data goes into `__chart_meta__`:
// a task's position in `task.__chart_meta__.position`, a transition's waypoints and label
// positions (per target task) in `transition.__chart_meta__.{edge_waypoints,label_positions}`.
// Legacy task fields (on_success, on_failure, on_timeout, on_complete, decision, task-level
// publish) are rewritten into `next` on load, the way the server's parser does.
import { parse, stringify } from "yaml";

export interface Point {
  x: number;
  y: number;
}

export type Publish = Record<string, unknown>[];

export interface Transition {
  when?: string;
  publish?: Publish;
  do: string[];
  label?: string;
  color?: string;
  waypoints?: Record<string, Point[]>;
  labelPositions?: Record<string, Point>;
  /** Keys we do not model, written back untouched. */
  extra?: Record<string, unknown>;
}

export interface Retry {
  count?: number;
  delay?: number;
  backoff?: string;
  max_delay?: number;
  when?: string;
}

export interface Task {
  /** Stable id for the canvas; not written to the file. */
  id: string;
  name: string;
  action?: string;
  input?: Record<string, unknown>;
  next: Transition[];
  join?: "all" | number;
  with_items?: string | unknown[];
  concurrency?: number;
  batch_size?: number;
  retry?: Retry;
  delay?: number;
  timeout?: number;
  description?: string;
  position?: Point;
  /** Other `__chart_meta__` keys of the task. */
  chartExtra?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

export interface Workflow {
  /** Top-level keys other than `tasks`, in file order (ref, label, parameters, vars, output...). */
  header: Record<string, unknown>;
  tasks: Task[];
}

export const SPECIAL_TARGETS = new Set(["noop", "fail"]);

const TASK_KEYS = new Set([
  "name",
  "action",
  "input",
  "next",
  "join",
  "with_items",
  "concurrency",
  "batch_size",
  "retry",
  "delay",
  "timeout",
  "description",
  "__chart_meta__",
]);
const LEGACY_KEYS = ["on_success", "on_failure", "on_timeout", "on_complete", "decision", "publish"];
const TRANSITION_KEYS = new Set(["when", "publish", "do", "label", "color", "__chart_meta__", "edge_waypoints", "label_positions"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

let counter = 0;
export function newTaskId(): string {
  counter += 1;
  return `t${Date.now().toString(36)}${counter}`;
}

/** `do` as a list: a list, a single name, or "a, b". */
export function targetList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string") return value.split(",").map((s) => s.trim()).filter(Boolean);
  return [];
}

function publishList(value: unknown): Publish | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.filter(isObject);
  if (isObject(value)) return Object.entries(value).map(([k, v]) => ({ [k]: v }));
  return undefined;
}

function points(value: unknown): Point[] {
  return Array.isArray(value)
    ? value.filter(isObject).map((p) => ({ x: Number(p.x) || 0, y: Number(p.y) || 0 }))
    : [];
}

function readTransition(raw: Record<string, unknown>): Transition {
  const meta = isObject(raw.__chart_meta__) ? raw.__chart_meta__ : {};
  const t: Transition = { do: targetList(raw.do) };
  if (raw.when !== undefined && raw.when !== null) t.when = String(raw.when);
  const publish = publishList(raw.publish);
  if (publish) t.publish = publish;
  if (typeof raw.label === "string") t.label = raw.label;
  if (typeof raw.color === "string") t.color = raw.color;
  const waypoints = isObject(meta.edge_waypoints) ? meta.edge_waypoints : isObject(raw.edge_waypoints) ? raw.edge_waypoints : null;
  if (waypoints) t.waypoints = Object.fromEntries(Object.entries(waypoints).map(([k, v]) => [k, points(v)]));
  const labels = isObject(meta.label_positions) ? meta.label_positions : isObject(raw.label_positions) ? raw.label_positions : null;
  if (labels) {
    t.labelPositions = Object.fromEntries(
      Object.entries(labels).filter(([, v]) => isObject(v)).map(([k, v]) => [k, points([v])[0]]),
    );
  }
  const extra = Object.fromEntries(Object.entries(raw).filter(([k]) => !TRANSITION_KEYS.has(k)));
  const metaExtra = Object.fromEntries(Object.entries(meta).filter(([k]) => k !== "edge_waypoints" && k !== "label_positions"));
  if (Object.keys(metaExtra).length) extra.__chart_meta__ = metaExtra;
  if (Object.keys(extra).length) t.extra = extra;
  return t;
}

const SUCCEEDED = "{{ succeeded() }}";
const FAILED = "{{ failed() }}";
const TIMED_OUT = "{{ timed_out() }}";

function strip(expr: unknown): string {
  const text = String(expr).trim();
  const m = /^\{\{(.*)\}\}$/s.exec(text);
  return (m ? m[1] : text).trim();
}

/** The legacy on_* / decision / publish fields of a task as `next` transitions. */
function legacyTransitions(raw: Record<string, unknown>): Transition[] {
  const out: Transition[] = [];
  const publish = publishList(raw.publish);
  if (raw.on_success !== undefined) {
    out.push({ when: SUCCEEDED, do: targetList(raw.on_success), ...(publish ? { publish } : {}) });
  } else if (publish) {
    out.push({ when: SUCCEEDED, do: [], publish });
  }
  if (Array.isArray(raw.decision)) {
    const previous: string[] = [];
    for (const branch of raw.decision.filter(isObject)) {
      const nots = previous.map((c) => ` and not (${c})`).join("");
      if (branch.default) {
        out.push({ when: `{{ succeeded()${nots} }}`, do: targetList(branch.next) });
      } else {
        const cond = strip(branch.when);
        out.push({ when: `{{ succeeded() and (${cond})${nots} }}`, do: targetList(branch.next) });
        previous.push(cond);
      }
    }
  }
  if (raw.on_failure !== undefined) {
    const when = raw.on_timeout !== undefined ? "{{ failed() and not timed_out() }}" : FAILED;
    out.push({ when, do: targetList(raw.on_failure) });
  }
  if (raw.on_timeout !== undefined) out.push({ when: TIMED_OUT, do: targetList(raw.on_timeout) });
  if (raw.on_complete !== undefined) out.push({ do: targetList(raw.on_complete) });
  return out;
}

function readTask(raw: Record<string, unknown>, name: string): Task {
  const meta = isObject(raw.__chart_meta__) ? raw.__chart_meta__ : {};
  const task: Task = { id: newTaskId(), name, next: [] };
  if (raw.action !== undefined && raw.action !== null) task.action = String(raw.action);
  if (isObject(raw.input)) task.input = raw.input;
  task.next = Array.isArray(raw.next) ? raw.next.filter(isObject).map(readTransition) : [];
  task.next.push(...legacyTransitions(raw));
  if (raw.join === "all" || typeof raw.join === "number") task.join = raw.join;
  if (raw.with_items !== undefined) task.with_items = raw.with_items as string | unknown[];
  for (const key of ["concurrency", "batch_size", "delay", "timeout"] as const) {
    if (typeof raw[key] === "number") task[key] = raw[key] as number;
  }
  if (typeof raw.retry === "number") task.retry = { count: raw.retry };
  else if (isObject(raw.retry)) task.retry = raw.retry as Retry;
  if (typeof raw.description === "string") task.description = raw.description;
  if (isObject(meta.position)) task.position = points([meta.position])[0];
  const chartExtra = Object.fromEntries(Object.entries(meta).filter(([k]) => k !== "position"));
  if (Object.keys(chartExtra).length) task.chartExtra = chartExtra;
  const extra = Object.fromEntries(
    Object.entries(raw).filter(([k]) => !TASK_KEYS.has(k) && !LEGACY_KEYS.includes(k)),
  );
  if (Object.keys(extra).length) task.extra = extra;
  return task;
}

/** A definition object (as the API stores it, or parsed from YAML) as the builder's model. */
export function fromDefinition(definition: Record<string, unknown>): Workflow {
  const header: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(definition)) if (key !== "tasks") header[key] = value;
  const raw = definition.tasks;
  let tasks: Task[] = [];
  if (Array.isArray(raw)) {
    tasks = raw.filter(isObject).map((t, i) => readTask(t, String(t.name ?? `task${i + 1}`)));
  } else if (isObject(raw)) {
    tasks = Object.entries(raw).map(([name, t]) => readTask(isObject(t) ? t : {}, name));
  }
  return { header, tasks };
}

/** Parse YAML (or JSON) text; throws with the parser's message on bad syntax. */
export function fromYaml(text: string): Workflow {
  const doc = parse(text);
  if (!isObject(doc)) throw new Error("a workflow must be a YAML mapping");
  return fromDefinition(doc);
}

function writeTransition(t: Transition): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (t.when !== undefined && t.when !== "") out.when = t.when;
  if (t.publish && t.publish.length) out.publish = t.publish;
  out.do = [...t.do];
  if (t.label) out.label = t.label;
  if (t.color) out.color = t.color;
  const extra = { ...(t.extra ?? {}) };
  const meta: Record<string, unknown> = isObject(extra.__chart_meta__) ? { ...extra.__chart_meta__ } : {};
  delete extra.__chart_meta__;
  const waypoints = Object.fromEntries(Object.entries(t.waypoints ?? {}).filter(([k, v]) => v.length && t.do.includes(k)));
  if (Object.keys(waypoints).length) meta.edge_waypoints = waypoints;
  const labels = Object.fromEntries(Object.entries(t.labelPositions ?? {}).filter(([k]) => t.do.includes(k)));
  if (Object.keys(labels).length) meta.label_positions = labels;
  Object.assign(out, extra);
  if (Object.keys(meta).length) out.__chart_meta__ = meta;
  return out;
}

function round(p: Point): Point {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

function writeTask(task: Task): Record<string, unknown> {
  const out: Record<string, unknown> = { name: task.name };
  if (task.action) out.action = task.action;
  if (task.description) out.description = task.description;
  if (task.input && Object.keys(task.input).length) out.input = task.input;
  if (task.with_items !== undefined && task.with_items !== "") out.with_items = task.with_items;
  if (task.concurrency !== undefined) out.concurrency = task.concurrency;
  if (task.batch_size !== undefined) out.batch_size = task.batch_size;
  if (task.join !== undefined) out.join = task.join;
  if (task.retry && Object.keys(task.retry).length) out.retry = task.retry;
  if (task.delay !== undefined) out.delay = task.delay;
  if (task.timeout !== undefined) out.timeout = task.timeout;
  if (task.next.length) out.next = task.next.map(writeTransition);
  Object.assign(out, task.extra ?? {});
  const meta: Record<string, unknown> = { ...(task.chartExtra ?? {}) };
  if (task.position) meta.position = round(task.position);
  if (Object.keys(meta).length) out.__chart_meta__ = meta;
  return out;
}

/** The model as a definition object (what the API stores and the file holds). */
export function toDefinition(workflow: Workflow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const [key, value] of Object.entries(workflow.header)) {
    if (value === undefined) continue;
    // tasks go before the outputs, the way people write workflows
    if (!placed && (key === "output" || key === "output_map")) {
      out.tasks = workflow.tasks.map(writeTask);
      placed = true;
    }
    out[key] = value;
  }
  if (!placed) out.tasks = workflow.tasks.map(writeTask);
  return out;
}

export function toYaml(workflow: Workflow): string {
  return stringify(toDefinition(workflow), { lineWidth: 0 });
}

export type EdgeKind = "succeeded" | "failed" | "always" | "custom";

/** The preset a transition's `when` corresponds to (the handle it was drawn from). */
export function edgeKind(when: string | undefined): EdgeKind {
  if (when === undefined || strip(when) === "") return "always";
  const body = strip(when).replace(/\s+/g, "");
  if (body === "succeeded()") return "succeeded";
  if (body === "failed()") return "failed";
  return "custom";
}

export const WHEN_FOR: Record<Exclude<EdgeKind, "custom">, string | undefined> = {
  succeeded: SUCCEEDED,
  failed: FAILED,
  always: undefined,
};

export const KIND_COLOR: Record<EdgeKind, string> = {
  succeeded: "#16a34a",
  failed: "#dc2626",
  always: "#64748b",
  custom: "#2563eb",
};

/**
 * The label shown on an edge: the custom label, else the condition when it is not a preset
 * (preset edges say it with their colour: green succeeded, red failed, dashed grey always).
 */
export function edgeLabel(t: Transition): string {
  if (t.label) return t.label;
  const kind = edgeKind(t.when);
  if (kind !== "custom") return "";
  const text = strip(t.when ?? "");
  return text.length > 28 ? `${text.slice(0, 27)}…` : text;
}

/** A task name that is not taken yet: `base`, `base_2`, ... */
export function freeName(tasks: Task[], base: string): string {
  const clean = base.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^_+|_+$/g, "") || "task";
  const taken = new Set(tasks.map((t) => t.name));
  if (!taken.has(clean) && !SPECIAL_TARGETS.has(clean)) return clean;
  for (let i = 2; ; i++) if (!taken.has(`${clean}_${i}`)) return `${clean}_${i}`;
}

/** Rename a task and every `do` (and chart meta key) that names it. */
export function renameTask(workflow: Workflow, id: string, name: string): Workflow {
  const old = workflow.tasks.find((t) => t.id === id)?.name;
  if (old === undefined || old === name) return workflow;
  const swap = <V,>(rec: Record<string, V> | undefined) =>
    rec && Object.fromEntries(Object.entries(rec).map(([k, v]) => [k === old ? name : k, v]));
  return {
    ...workflow,
    tasks: workflow.tasks.map((t) => ({
      ...t,
      name: t.id === id ? name : t.name,
      next: t.next.map((tr) =>
        tr.do.includes(old)
          ? { ...tr, do: tr.do.map((d) => (d === old ? name : d)), waypoints: swap(tr.waypoints), labelPositions: swap(tr.labelPositions) }
          : tr,
      ),
    })),
  };
}

/** Remove a task and every transition target naming it (empty transitions are dropped unless they publish). */
export function removeTask(workflow: Workflow, id: string): Workflow {
  const name = workflow.tasks.find((t) => t.id === id)?.name;
  return {
    ...workflow,
    tasks: workflow.tasks
      .filter((t) => t.id !== id)
      .map((t) => ({
        ...t,
        next: t.next
          .map((tr) => (tr.do.includes(name ?? "") ? { ...tr, do: tr.do.filter((d) => d !== name) } : tr))
          .filter((tr) => tr.do.length || (tr.publish && tr.publish.length) || tr.when !== undefined),
      })),
  };
}

/**
 * Connect `source` to `target` from a preset handle: add the target to the first transition
 * with that preset's `when` (so "succeeded" fans out), or append a new transition.
 */
export function connect(workflow: Workflow, sourceId: string, targetName: string, kind: Exclude<EdgeKind, "custom">): Workflow {
  return {
    ...workflow,
    tasks: workflow.tasks.map((t) => {
      if (t.id !== sourceId) return t;
      const index = t.next.findIndex((tr) => edgeKind(tr.when) === kind && !tr.label && !tr.color);
      if (index >= 0) {
        if (t.next[index].do.includes(targetName)) return t;
        return { ...t, next: t.next.map((tr, i) => (i === index ? { ...tr, do: [...tr.do, targetName] } : tr)) };
      }
      const when = WHEN_FOR[kind];
      return { ...t, next: [...t.next, { ...(when ? { when } : {}), do: [targetName] }] };
    }),
  };
}

/** Map a problem's path (`tasks[2].next[0].when`) to the task it concerns. */
export function problemTask(path: string, tasks: Task[]): Task | undefined {
  const m = /^tasks\[(\d+)\]/.exec(path);
  if (m) return tasks[Number(m[1])];
  const named = /^tasks\.([A-Za-z0-9_-]+)/.exec(path);
  return named ? tasks.find((t) => t.name === named[1]) : undefined;
}

export function emptyWorkflow(): Workflow {
  return { header: { version: "1.0.0" }, tasks: [] };
}
