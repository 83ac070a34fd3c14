// Canvas pieces shared by the builder and the execution graph: the task node, the transition
// edge (smooth path through waypoints, draggable label), and workflow -> xyflow conversion.
import {
  BaseEdge,
  EdgeLabelRenderer,
  getBezierPath,
  getViewportForBounds,
  Handle,
  MarkerType,
  Position,
  useReactFlow,
  type Edge,
  type EdgeProps,
  type Node,
  type NodeHandle,
  type NodeProps,
  type Viewport,
} from "@xyflow/react";
import { createContext, memo, useContext, useLayoutEffect, useRef, useState } from "react";
import { cx } from "@/components/ui";
import type { EdgeKind, Point, Task, Workflow } from "./model";
import { edgeKind, edgeLabel, KIND_COLOR, SPECIAL_TARGETS } from "./model";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout";

export interface TaskNodeData extends Record<string, unknown> {
  task: Task;
  editable: boolean;
  /** Live status of the task (execution graph). */
  status?: string;
  runs?: number;
  /** Validation messages concerning this task (builder). */
  problems?: string[];
  /** Special targets this task can reach (noop / fail), shown as chips. */
  specials?: string[];
}
export type TaskNodeType = Node<TaskNodeData, "task">;

export interface TransitionEdgeData extends Record<string, unknown> {
  taskId: string;
  index: number;
  target: string;
  kind: EdgeKind;
  label: string;
  color: string;
  waypoints: Point[];
  labelPosition?: Point;
  taken?: boolean;
  dimmed?: boolean;
}
export type TransitionEdgeType = Edge<TransitionEdgeData, "transition">;

export const STATUS_STYLE: Record<string, string> = {
  completed: "border-green-500 bg-green-50 dark:bg-green-950/50",
  succeeded: "border-green-500 bg-green-50 dark:bg-green-950/50",
  running: "border-blue-500 bg-blue-50 dark:bg-blue-950/50 animate-pulse",
  scheduled: "border-blue-400 bg-blue-50 dark:bg-blue-950/40",
  scheduling: "border-blue-400 bg-blue-50 dark:bg-blue-950/40",
  requested: "border-sky-400 bg-sky-50 dark:bg-sky-950/40",
  failed: "border-red-500 bg-red-50 dark:bg-red-950/50",
  timeout: "border-red-500 bg-red-50 dark:bg-red-950/50",
  abandoned: "border-red-500 bg-red-50 dark:bg-red-950/50",
  canceling: "border-amber-500 bg-amber-50 dark:bg-amber-950/40",
  cancelled: "border-slate-500 bg-slate-100 dark:bg-slate-800",
  pending: "border-amber-400 bg-amber-50 dark:bg-amber-950/40",
};

const HANDLES: { id: Exclude<EdgeKind, "custom">; left: string; title: string }[] = [
  { id: "succeeded", left: "25%", title: "on success" },
  { id: "failed", left: "50%", title: "on failure" },
  { id: "always", left: "75%", title: "always" },
];

function TaskNodeView({ data, selected }: NodeProps<TaskNodeType>) {
  const { task, editable, status, problems, runs, specials } = data;
  const badges: string[] = [];
  if (task.join !== undefined) badges.push(`join ${task.join}`);
  if (task.with_items !== undefined) badges.push("items");
  if (task.retry) badges.push(`retry ${task.retry.count ?? ""}`.trim());
  if (task.timeout) badges.push(`${task.timeout}s`);
  return (
    <div
      data-testid={`task-${task.name}`}
      data-status={status ?? ""}
      title={problems?.length ? problems.join("\n") : undefined}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      className={cx(
        "relative flex flex-col justify-center rounded-lg border-2 bg-white px-3 text-left shadow-sm dark:bg-slate-900",
        status ? STATUS_STYLE[status] ?? "border-slate-300 dark:border-slate-600" : "border-slate-300 dark:border-slate-600",
        problems?.length ? "!border-red-600 ring-2 ring-red-300 dark:ring-red-800" : "",
        selected && "ring-2 ring-indigo-500",
        !status && data.runs === 0 && "opacity-60",
      )}
    >
      <Handle type="target" position={Position.Top} className="!h-2.5 !w-2.5 !bg-slate-400" />
      <div className="flex items-center gap-1.5">
        <span className="truncate text-sm font-semibold text-slate-900 dark:text-slate-100">{task.name}</span>
        {problems?.length ? (
          <span className="ml-auto rounded bg-red-600 px-1 text-[10px] font-bold text-white" aria-label={`${problems.length} problems`}>
            {problems.length}
          </span>
        ) : null}
        {status && (
          <span className="ml-auto text-[10px] font-medium uppercase text-slate-600 dark:text-slate-300">
            {status}
            {runs && runs > 1 ? ` ×${runs}` : ""}
          </span>
        )}
      </div>
      <div className="truncate text-xs text-slate-500 dark:text-slate-400">{task.action ?? "(routing only)"}</div>
      {(badges.length > 0 || (specials && specials.length > 0)) && (
        <div className="mt-0.5 flex gap-1 overflow-hidden">
          {badges.map((b) => (
            <span key={b} className="rounded bg-slate-100 px-1 text-[10px] text-slate-600 dark:bg-slate-800 dark:text-slate-300">
              {b}
            </span>
          ))}
          {specials?.map((s) => (
            <span key={s} className={cx("rounded px-1 text-[10px]", s === "fail" ? "bg-red-100 text-red-700 dark:bg-red-900/50 dark:text-red-300" : "bg-slate-100 text-slate-600 dark:bg-slate-800 dark:text-slate-300")}>
              → {s}
            </span>
          ))}
        </div>
      )}
      {editable ? (
        HANDLES.map((h) => (
          <Handle
            key={h.id}
            id={h.id}
            type="source"
            position={Position.Bottom}
            title={`Connect ${h.title}`}
            aria-label={`${task.name}: connect ${h.title}`}
            data-testid={`handle-${task.name}-${h.id}`}
            style={{ left: h.left, background: KIND_COLOR[h.id] }}
            className="!h-3 !w-3 !border-2 !border-white dark:!border-slate-900"
          />
        ))
      ) : (
        <Handle id="out" type="source" position={Position.Bottom} className="!h-2 !w-2 !bg-slate-400" isConnectable={false} />
      )}
    </div>
  );
}

export const TaskNode = memo(TaskNodeView);

/** Smooth path through points (Catmull-Rom converted to cubic Béziers). */
export function smoothPath(points: Point[]): string {
  if (points.length < 2) return "";
  let d = `M ${points[0].x},${points[0].y}`;
  for (let i = 0; i < points.length - 1; i++) {
    const p0 = points[i - 1] ?? points[i];
    const p1 = points[i];
    const p2 = points[i + 1];
    const p3 = points[i + 2] ?? p2;
    const c1 = { x: p1.x + (p2.x - p0.x) / 6, y: p1.y + (p2.y - p0.y) / 6 };
    const c2 = { x: p2.x - (p3.x - p1.x) / 6, y: p2.y - (p3.y - p1.y) / 6 };
    d += ` C ${c1.x},${c1.y} ${c2.x},${c2.y} ${p2.x},${p2.y}`;
  }
  return d;
}

/** What the builder lets an edge do; absent in read-only graphs. */
export interface EdgeEditing {
  setWaypoints(edge: TransitionEdgeData, points: Point[]): void;
  setLabelPosition(edge: TransitionEdgeData, point: Point | undefined): void;
}
export const EdgeEditContext = createContext<EdgeEditing | null>(null);

function useDrag(onMove: (p: Point) => void, onEnd?: () => void) {
  const { screenToFlowPosition } = useReactFlow();
  const moving = useRef(false);
  return (event: React.PointerEvent) => {
    event.stopPropagation();
    event.preventDefault();
    moving.current = true;
    const move = (e: PointerEvent) => onMove(screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    const up = () => {
      moving.current = false;
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      onEnd?.();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };
}

function Waypoint(props: { edge: TransitionEdgeData; index: number; point: Point; color: string; editing: EdgeEditing }) {
  const { edge, index, editing } = props;
  const start = useDrag((p) => editing.setWaypoints(edge, edge.waypoints.map((w, i) => (i === index ? p : w))));
  return (
    <circle
      cx={props.point.x}
      cy={props.point.y}
      r={6}
      fill="white"
      stroke={props.color}
      strokeWidth={2}
      className="nodrag nopan cursor-move"
      style={{ pointerEvents: "all" }}
      onPointerDown={start}
      onDoubleClick={(e) => {
        e.stopPropagation();
        editing.setWaypoints(edge, edge.waypoints.filter((_, i) => i !== index));
      }}
    >
      <title>Drag to move the waypoint; double-click to remove it</title>
    </circle>
  );
}

function TransitionEdgeView(props: EdgeProps<TransitionEdgeType>) {
  const { sourceX, sourceY, targetX, targetY, data, selected, markerEnd } = props;
  const editing = useContext(EdgeEditContext);
  const { screenToFlowPosition } = useReactFlow();
  const dragLabel = useDrag((p) => data && editing?.setLabelPosition(data, p));
  if (!data) return null;
  const color = data.color;
  let path: string;
  let mid: Point;
  if (data.waypoints.length) {
    const pts = [{ x: sourceX, y: sourceY }, ...data.waypoints, { x: targetX, y: targetY }];
    path = smoothPath(pts);
    mid = data.waypoints[Math.floor((data.waypoints.length - 1) / 2)];
  } else {
    const [p, lx, ly] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition: Position.Bottom, targetPosition: Position.Top });
    path = p;
    mid = { x: lx, y: ly };
  }
  const at = data.labelPosition ?? mid;
  const width = data.taken ? 3 : selected ? 2.5 : 1.5;
  return (
    <>
      <BaseEdge
        id={props.id}
        path={path}
        markerEnd={markerEnd}
        style={{ stroke: color, strokeWidth: width, opacity: data.dimmed ? 0.35 : 1, strokeDasharray: data.kind === "always" ? "6 4" : undefined }}
        interactionWidth={16}
      />
      {editing && selected && (
        <g>
          <path
            d={path}
            fill="none"
            stroke="transparent"
            strokeWidth={18}
            className="nodrag nopan cursor-copy"
            style={{ pointerEvents: "stroke" }}
            onDoubleClick={(e) => {
              e.stopPropagation();
              const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
              // insert where it keeps the path order: after the nearest preceding point by y
              const list = [...data.waypoints];
              const index = list.findIndex((w) => w.y > p.y);
              list.splice(index < 0 ? list.length : index, 0, p);
              editing.setWaypoints(data, list);
            }}
          >
            <title>Double-click to add a waypoint</title>
          </path>
          {data.waypoints.map((w, i) => (
            <Waypoint key={i} edge={data} index={i} point={w} color={color} editing={editing} />
          ))}
        </g>
      )}
      {data.label && (
        <EdgeLabelRenderer>
          <div
            className={cx(
              "nodrag nopan absolute rounded border bg-white px-1.5 py-0.5 text-[11px] font-medium shadow-sm dark:bg-slate-900",
              editing ? "cursor-move" : "",
              data.dimmed && "opacity-50",
            )}
            style={{ transform: `translate(-50%, -50%) translate(${at.x}px, ${at.y}px)`, color, borderColor: color, pointerEvents: editing ? "all" : "none" }}
            onPointerDown={editing ? dragLabel : undefined}
            onDoubleClick={editing ? () => editing.setLabelPosition(data, undefined) : undefined}
            title={editing ? "Drag to move the label; double-click to reset it" : undefined}
          >
            {data.label}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const TransitionEdge = memo(TransitionEdgeView);

export const nodeTypes = { task: TaskNode };
export const edgeTypes = { transition: TransitionEdge };

const TARGET_HANDLE: NodeHandle = { id: null, type: "target", position: Position.Top, x: NODE_WIDTH / 2 - 5, y: -5, width: 10, height: 10 };
const EDIT_HANDLES: NodeHandle[] = [
  TARGET_HANDLE,
  ...HANDLES.map((h): NodeHandle => ({
    id: h.id,
    type: "source",
    position: Position.Bottom,
    x: (NODE_WIDTH * parseFloat(h.left)) / 100 - 6,
    y: NODE_HEIGHT - 6,
    width: 12,
    height: 12,
  })),
];
const VIEW_HANDLES: NodeHandle[] = [
  TARGET_HANDLE,
  { id: "out", type: "source", position: Position.Bottom, x: NODE_WIDTH / 2 - 4, y: NODE_HEIGHT - 4, width: 8, height: 8 },
];

export function edgeId(taskId: string, index: number, target: string): string {
  return `${taskId}|${index}|${target}`;
}

/** Nodes and edges of a workflow (tasks must have positions). */
export function toFlow(
  workflow: Workflow,
  options: { editable: boolean; nodeData?: (task: Task) => Partial<TaskNodeData>; taken?: Set<string> },
): { nodes: TaskNodeType[]; edges: TransitionEdgeType[] } {
  const ids = new Map(workflow.tasks.map((t) => [t.name, t.id]));
  const nodes: TaskNodeType[] = workflow.tasks.map((task) => {
    const specials = [...new Set(task.next.flatMap((tr) => tr.do.filter((d) => SPECIAL_TARGETS.has(d))))];
    return {
      id: task.id,
      type: "task",
      position: task.position ?? { x: 0, y: 0 },
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      // handle geometry up front, so edges are drawn in the first pass (before xyflow measures)
      handles: options.editable ? EDIT_HANDLES : VIEW_HANDLES,
      data: { task, editable: options.editable, specials, ...options.nodeData?.(task) },
    };
  });
  const edges: TransitionEdgeType[] = [];
  workflow.tasks.forEach((task) => {
    task.next.forEach((tr, index) => {
      const kind = edgeKind(tr.when);
      const color = tr.color || KIND_COLOR[kind];
      for (const target of tr.do) {
        const to = ids.get(target);
        if (!to) continue;
        const id = edgeId(task.id, index, target);
        const taken = options.taken ? options.taken.has(`${task.name}|${index}|${target}`) : undefined;
        edges.push({
          id,
          type: "transition",
          source: task.id,
          target: to,
          sourceHandle: options.editable ? (kind === "custom" ? "always" : kind) : "out",
          markerEnd: { type: MarkerType.ArrowClosed, color },
          data: {
            taskId: task.id,
            index,
            target,
            kind,
            label: edgeLabel(tr),
            color,
            waypoints: tr.waypoints?.[target] ?? [],
            labelPosition: tr.labelPositions?.[target],
            taken,
            dimmed: options.taken ? !taken : false,
          },
        });
      }
    });
  });
  return { nodes, edges };
}

/**
 * The viewport showing every task, computed from the container's size before the first render.
 * (xyflow's `fitView` waits for every node to be measured, which never happens for the nodes
 * `onlyRenderVisibleElements` leaves out, so big graphs would open zoomed in on a corner.)
 */
export function useInitialViewport(tasks: Task[], maxZoom = 1) {
  const ref = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState<Viewport | null>(null);
  useLayoutEffect(() => {
    if (viewport || !ref.current) return;
    const { width, height } = ref.current.getBoundingClientRect();
    if (tasks.length === 0) {
      setViewport({ x: 0, y: 0, zoom: 1 });
      return;
    }
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const t of tasks) {
      const p = t.position ?? { x: 0, y: 0 };
      minX = Math.min(minX, p.x);
      minY = Math.min(minY, p.y);
      maxX = Math.max(maxX, p.x + NODE_WIDTH);
      maxY = Math.max(maxY, p.y + NODE_HEIGHT);
    }
    setViewport(getViewportForBounds({ x: minX, y: minY, width: maxX - minX, height: maxY - minY }, width || 800, height || 500, 0.05, maxZoom, 0.08));
  }, [tasks, viewport, maxZoom]);
  return { ref, viewport };
}
