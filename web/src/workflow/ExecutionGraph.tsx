/**
 * ExecutionGraph — the read-only graph of one workflow execution.
 *
 * Props:
 *   - `execution: Schemas["Execution"] | Schemas["ExecutionSummary"]` (required): the workflow's
 *     parent execution (its `action_ref` is the workflow's ref, its `id` the run).
 *   - `height?: number | string`: canvas height (default 480px).
 *   - `onOpenExecution?: (id: number) => void`: called with a child execution id when the user
 *     picks "open" on a task's run (default: a plain link to `/executions/:id`).
 *
 * It loads by itself the workflow definition (`GET /api/v1/workflows/{ref}`), the run's state and
 * the conductor's decisions (`GET /api/v1/executions/{id}/workflow`) and the child executions
 * (`GET /api/v1/executions?parent={id}`). Query keys start with "executions", so live
 * notifications refresh the colours while the workflow runs. Tasks are laid out from their
 * `__chart_meta__` positions, or automatically (elkjs) when the definition has none; each task
 * is coloured by the status of its newest child execution; transitions that fired are drawn
 * thick, the others dimmed. Clicking a task (or pressing Enter on it in the task list) shows
 * what the conductor decided when it finished: every transition's `when`, its value, and
 * whether it fired.
 *
 * Usage: `const ExecutionGraph = lazy(() => import("@/workflow/ExecutionGraph"));`
 *        `<ExecutionGraph execution={execution} />`
 */
import "@xyflow/react/dist/style.css";
import { useQuery } from "@tanstack/react-query";
import { Background, Controls, ReactFlow, ReactFlowProvider } from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { api, ApiError, unwrap, type Schemas } from "@/api/client";
import { getJson, type Page } from "@/api/lists";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge, cx, StatusBadge } from "@/components/ui";
import { useTheme } from "@/lib/theme";
import { explanations, reasonsFor, takenTransitions, taskStatuses, type Why } from "./execution";
import { edgeTypes, nodeTypes, toFlow, useInitialViewport } from "./flow";
import { withPositions } from "./layout";
import { fromDefinition, type Workflow } from "./model";

export interface ExecutionGraphProps {
  execution: Pick<Schemas["Execution"], "id" | "action_ref" | "status">;
  height?: number | string;
  onOpenExecution?: (id: number) => void;
}

type Child = Schemas["ExecutionSummary"];

async function allChildren(parent: number): Promise<Child[]> {
  const out: Child[] = [];
  for (let page = 1; page < 100; page++) {
    const body = await getJson<Page<Child>>("/api/v1/executions", { parent, page, page_size: 100 });
    out.push(...body.items);
    if (!body.pagination.has_next) break;
  }
  return out;
}

export default function ExecutionGraph({ execution, height = 480, onOpenExecution }: ExecutionGraphProps) {
  const definition = useQuery({
    queryKey: ["workflows", execution.action_ref, "definition"],
    queryFn: () => unwrap(api.GET("/api/v1/workflows/{ref}", { params: { path: { ref: execution.action_ref } } })),
    staleTime: 60_000,
  });
  const run = useQuery({
    queryKey: ["executions", execution.id, "workflow-run"],
    queryFn: () => unwrap(api.GET("/api/v1/executions/{id}/workflow", { params: { path: { id: execution.id } } })),
    retry: (count, error) => !(error instanceof ApiError && error.status === 404) && count < 2,
  });
  const children = useQuery({
    queryKey: ["executions", { parent: execution.id }, "graph"],
    queryFn: () => allChildren(execution.id),
  });
  const [laid, setLaid] = useState<Workflow | null>(null);
  const [layoutError, setLayoutError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const theme = useTheme((s) => s.theme);

  useEffect(() => {
    const data = definition.data?.data;
    if (!data) return;
    let live = true;
    const workflow = fromDefinition(data.definition as Record<string, unknown>);
    withPositions(workflow.tasks)
      .then((tasks) => live && setLaid({ ...workflow, tasks }))
      .catch((e) => live && setLayoutError(e));
    return () => {
      live = false;
    };
  }, [definition.data]);

  const childRows = useMemo(() => children.data ?? [], [children.data]);
  const statuses = useMemo(() => taskStatuses(childRows), [childRows]);
  const items = useMemo(() => explanations(run.data?.data.decisions ?? [], childRows), [run.data, childRows]);
  const taken = useMemo(() => {
    const byName = new Map(laid?.tasks.map((t) => [t.name, t.next]) ?? []);
    return takenTransitions(items, (name) => byName.get(name));
  }, [items, laid]);

  const flow = useMemo(() => {
    if (!laid) return null;
    return toFlow(laid, {
      editable: false,
      taken,
      nodeData: (task) => {
        const s = statuses.get(task.name);
        return { status: s?.status, runs: s?.runs ?? 0 };
      },
    });
  }, [laid, statuses, taken]);

  if (definition.error) return <ErrorState error={definition.error} retry={() => definition.refetch()} />;
  if (layoutError) return <ErrorState error={layoutError} />;
  if (definition.isPending || !laid || !flow) return <Loading label="Loading the workflow graph…" />;
  if (laid.tasks.length === 0) return <Empty title="This workflow has no tasks." />;
  return <GraphView {...{ execution, height, onOpenExecution, laid, flow, selected, setSelected, statuses, items, run, theme }} />;
}

function GraphView(props: {
  execution: ExecutionGraphProps["execution"];
  height: number | string;
  onOpenExecution?: (id: number) => void;
  laid: Workflow;
  flow: ReturnType<typeof toFlow>;
  selected: string | null;
  setSelected: (id: string | null) => void;
  statuses: ReturnType<typeof taskStatuses>;
  items: ReturnType<typeof explanations>;
  run: { data?: { data: Schemas["WorkflowExecution"] }; error: unknown; refetch: () => unknown };
  theme: "light" | "dark";
}) {
  const { execution, height, onOpenExecution, laid, flow, selected, setSelected, statuses, items, run, theme } = props;
  const initial = useInitialViewport(laid.tasks);

  const selectedTask = laid.tasks.find((t) => t.id === selected);
  const runError = run.error instanceof ApiError && run.error.status !== 404 ? run.error : null;

  return (
    <div className="grid gap-3 lg:grid-cols-[1fr_320px]" data-testid="execution-graph">
      <div
        className="overflow-hidden rounded-lg border border-slate-200 dark:border-slate-800"
        style={{ height }}
        aria-label={`Workflow graph of ${execution.action_ref}`}
        role="figure"
      >
        <ReactFlowProvider>
          {!initial.viewport ? <div ref={initial.ref} className="h-full w-full" /> : <ReactFlow
            defaultViewport={initial.viewport}
            nodes={flow.nodes.map((n) => (n.id === selected ? { ...n, selected: true } : n))}
            edges={flow.edges}
            nodeTypes={nodeTypes}
            edgeTypes={edgeTypes}
            nodesDraggable={false}
            nodesConnectable={false}
            edgesFocusable={false}
            onNodeClick={(_, node) => setSelected(node.id)}
            onPaneClick={() => setSelected(null)}
            colorMode={theme}
            onlyRenderVisibleElements
            minZoom={0.05}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>}
        </ReactFlowProvider>
      </div>
      <aside className="min-w-0 space-y-3 text-sm" aria-label="Task details">
        {runError && <ErrorState error={runError} retry={() => run.refetch()} />}
        {run.data?.data.error_message && (
          <p role="alert" className="rounded border border-red-200 bg-red-50 p-2 text-red-800 dark:border-red-900 dark:bg-red-950/40 dark:text-red-300">
            {run.data.data.error_message}
          </p>
        )}
        {selectedTask ? (
          <TaskPanel
            name={selectedTask.name}
            action={selectedTask.action}
            status={statuses.get(selectedTask.name)?.status}
            executions={statuses.get(selectedTask.name)?.executions ?? []}
            reasons={reasonsFor(selectedTask.name, items).map((i) => ({ ...i.why, target: i.target, command: i.command }))}
            onOpenExecution={onOpenExecution}
          />
        ) : (
          <p className="text-slate-500 dark:text-slate-400">Select a task to see its runs and why each of its transitions fired or not.</p>
        )}
        <nav aria-label="Tasks" className="max-h-64 overflow-auto rounded border border-slate-200 dark:border-slate-800">
          <ul>
            {laid.tasks.map((t) => (
              <li key={t.id}>
                <button
                  type="button"
                  onClick={() => setSelected(t.id)}
                  aria-pressed={t.id === selected}
                  className={cx(
                    "flex w-full items-center justify-between gap-2 px-2 py-1 text-left hover:bg-slate-50 dark:hover:bg-slate-800",
                    t.id === selected && "bg-indigo-50 dark:bg-indigo-950/40",
                  )}
                >
                  <span className="truncate">{t.name}</span>
                  {statuses.get(t.name) ? <StatusBadge status={statuses.get(t.name)!.status} /> : <Badge>not run</Badge>}
                </button>
              </li>
            ))}
          </ul>
        </nav>
      </aside>
    </div>
  );
}

function TaskPanel(props: {
  name: string;
  action?: string;
  status?: string;
  executions: number[];
  reasons: (Why & { target?: string; command: string })[];
  onOpenExecution?: (id: number) => void;
}) {
  return (
    <section aria-label={`Task ${props.name}`} className="space-y-2 rounded border border-slate-200 p-3 dark:border-slate-800">
      <header className="flex items-center justify-between gap-2">
        <h3 className="font-semibold">{props.name}</h3>
        {props.status ? <StatusBadge status={props.status} /> : <Badge>not run</Badge>}
      </header>
      <p className="text-xs text-slate-500 dark:text-slate-400">{props.action ?? "routing only (no action)"}</p>
      {props.executions.length > 0 && (
        <p className="flex flex-wrap gap-2 text-xs">
          Runs:
          {props.executions.map((id) =>
            props.onOpenExecution ? (
              <button key={id} type="button" className="text-indigo-600 underline dark:text-indigo-400" onClick={() => props.onOpenExecution!(id)}>
                #{id}
              </button>
            ) : (
              <Link key={id} to={`/executions/${id}`} className="text-indigo-600 underline dark:text-indigo-400">
                #{id}
              </Link>
            ),
          )}
        </p>
      )}
      <h4 className="text-xs font-semibold uppercase text-slate-500">Transitions</h4>
      {props.reasons.length === 0 ? (
        <p className="text-xs text-slate-500">No decision recorded yet for this task.</p>
      ) : (
        <ul className="space-y-2" data-testid="transition-reasons">
          {props.reasons.map((r, i) => (
            <li key={i} className="space-y-1">
              <p className="text-xs">
                {r.run != null && <span className="text-slate-500">run {r.run}: </span>}
                {r.message}
                {r.command !== "DispatchTask" && <span className="text-slate-500"> ({r.command})</span>}
              </p>
              {r.evaluations.length > 0 && (
                <table className="w-full text-[11px]">
                  <thead>
                    <tr className="text-left text-slate-500">
                      <th scope="col">transition</th>
                      <th scope="col">when</th>
                      <th scope="col">fired</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.evaluations.map((e) => (
                      <tr key={e.transition} className={e.fired ? "font-medium text-green-700 dark:text-green-400" : "text-slate-500"}>
                        <td>{e.transition}</td>
                        <td className="break-all font-mono">{e.when ?? "(always)"}{e.error ? ` — ${e.error}` : ""}</td>
                        <td>{e.fired ? "yes" : "no"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
