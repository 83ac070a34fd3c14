// The builder's editable canvas: tasks dragged from the palette are dropped here, moved around,
// connected from their succeeded (green) / failed (red) / always (grey) handles; edges can be
// selected to add/move waypoints and move their label (stored in __chart_meta__).
import "@xyflow/react/dist/style.css";
import {
  applyNodeChanges,
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type NodeChange,
} from "@xyflow/react";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTheme } from "@/lib/theme";
import { EdgeEditContext, edgeTypes, nodeTypes, toFlow, useInitialViewport, type EdgeEditing, type TaskNodeType, type TransitionEdgeData } from "./flow";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout";
import type { EdgeKind, Point, Workflow } from "./model";
import { connect } from "./model";

export const ACTION_MIME = "application/x-attune-action";

export interface Selection {
  task?: string;
  edge?: string;
}

export const BuilderCanvas = memo(function BuilderCanvas(props: {
  workflow: Workflow;
  onChange: (w: Workflow) => void;
  selection: Selection;
  onSelect: (s: Selection) => void;
  problems: Map<string, string[]>;
  onDropAction: (ref: string, position: Point) => void;
  onDeleteTasks: (ids: string[]) => void;
  onRendered?: () => void;
}) {
  const { workflow, onChange } = props;
  const theme = useTheme((s) => s.theme);
  const flow = useReactFlow();
  const latest = useRef(workflow);
  latest.current = workflow;

  const built = useMemo(
    () => toFlow(workflow, { editable: true, nodeData: (t) => ({ problems: props.problems.get(t.id) }) }),
    [workflow, props.problems],
  );
  const withSelection = useCallback(
    (ns: TaskNodeType[], task: string | undefined) => (task ? ns.map((n) => (n.id === task ? { ...n, selected: true } : n)) : ns),
    [],
  );
  const [nodes, setNodes] = useState<TaskNodeType[]>(() => withSelection(built.nodes, props.selection.task));
  const synced = useRef({ nodes: built.nodes, task: props.selection.task });
  useEffect(() => {
    // only when the workflow or the selection changed since the nodes were made (not on mount)
    if (synced.current.nodes === built.nodes && synced.current.task === props.selection.task) return;
    synced.current = { nodes: built.nodes, task: props.selection.task };
    setNodes(withSelection(built.nodes, props.selection.task));
  }, [built.nodes, props.selection.task, withSelection]);
  const edges = useMemo(
    () => built.edges.map((e) => (e.id === props.selection.edge ? { ...e, selected: true } : e)),
    [built.edges, props.selection.edge],
  );

  const initial = useInitialViewport(workflow.tasks);
  const rendered = useRef(false);
  const onRendered = props.onRendered;
  useEffect(() => {
    if (rendered.current || nodes.length === 0) return;
    rendered.current = true;
    // done when the edges are drawn too (xyflow draws them once the nodes are measured)
    const started = performance.now();
    const check = () => {
      if (document.querySelector(".react-flow__edge") || performance.now() - started > 10_000 || !latest.current.tasks.some((t) => t.next.length)) onRendered?.();
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  }, [nodes, onRendered]);

  const select = props.onSelect;
  const onNodesChange = useCallback(
    (changes: NodeChange<TaskNodeType>[]) => {
      // selection is controlled by the page (it is in the URL); keyboard selection lands here too
      const picked = changes.find((c) => c.type === "select" && c.selected);
      if (picked && picked.type === "select") select({ task: picked.id });
      setNodes((current) => applyNodeChanges(changes.filter((c) => c.type !== "remove" && c.type !== "select"), current));
    },
    [select],
  );

  const onNodeDragStop = useCallback(
    (_: unknown, __: unknown, dragged: TaskNodeType[]) => {
      const moved = new Map(dragged.map((n) => [n.id, n.position]));
      const w = latest.current;
      onChange({ ...w, tasks: w.tasks.map((t) => (moved.has(t.id) ? { ...t, position: moved.get(t.id) } : t)) });
    },
    [onChange],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const w = latest.current;
      const target = w.tasks.find((t) => t.id === c.target);
      if (!target || !c.source) return;
      const kind = (["succeeded", "failed", "always"].includes(c.sourceHandle ?? "") ? c.sourceHandle : "succeeded") as Exclude<EdgeKind, "custom">;
      onChange(connect(w, c.source, target.name, kind));
    },
    [onChange],
  );


  const editing: EdgeEditing = useMemo(() => {
    const update = (edge: TransitionEdgeData, patch: (tr: Workflow["tasks"][number]["next"][number]) => Workflow["tasks"][number]["next"][number]) => {
      const w = latest.current;
      onChange({
        ...w,
        tasks: w.tasks.map((t) => (t.id === edge.taskId ? { ...t, next: t.next.map((tr, i) => (i === edge.index ? patch(tr) : tr)) } : t)),
      });
    };
    return {
      setWaypoints: (edge, points) =>
        update(edge, (tr) => ({ ...tr, waypoints: { ...(tr.waypoints ?? {}), [edge.target]: points.map((p) => ({ x: Math.round(p.x), y: Math.round(p.y) })) } })),
      setLabelPosition: (edge, point) =>
        update(edge, (tr) => {
          const labels = { ...(tr.labelPositions ?? {}) };
          if (point) labels[edge.target] = { x: Math.round(point.x), y: Math.round(point.y) };
          else delete labels[edge.target];
          return { ...tr, labelPositions: labels };
        }),
    };
  }, [onChange]);

  if (!initial.viewport) return <div ref={initial.ref} className="h-full w-full" />;
  return (
    <EdgeEditContext.Provider value={editing}>
      <ReactFlow
        defaultViewport={initial.viewport}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onNodeDragStop={onNodeDragStop}
        onConnect={onConnect}
        onEdgeClick={(_, edge) => select({ edge: edge.id })}
        onEdgesChange={(changes) => {
          const picked = changes.find((c) => c.type === "select" && c.selected);
          if (picked && picked.type === "select") select({ edge: picked.id });
        }}
        onPaneClick={() => select({})}
        onNodesDelete={(ns) => props.onDeleteTasks(ns.map((n) => n.id))}
        onEdgesDelete={(es) => {
          const w = latest.current;
          const gone = new Set(es.map((e) => e.id));
          onChange({
            ...w,
            tasks: w.tasks.map((t) => ({
              ...t,
              next: t.next.map((tr, i) => ({ ...tr, do: tr.do.filter((d) => !gone.has(`${t.id}|${i}|${d}`)) })),
            })),
          });
        }}
        deleteKeyCode={["Delete", "Backspace"]}
        onDragOver={(e) => {
          if (e.dataTransfer.types.includes(ACTION_MIME)) {
            e.preventDefault();
            e.dataTransfer.dropEffect = "copy";
          }
        }}
        onDrop={(e) => {
          const ref = e.dataTransfer.getData(ACTION_MIME);
          if (!ref) return;
          e.preventDefault();
          const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
          props.onDropAction(ref, { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 });
        }}
        colorMode={theme}
        onlyRenderVisibleElements
        minZoom={0.05}
        snapToGrid
        snapGrid={[10, 10]}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <Controls />
        {workflow.tasks.length <= 100 && <MiniMap pannable zoomable className="!hidden xl:!block" />}
      </ReactFlow>
    </EdgeEditContext.Provider>
  );
});
