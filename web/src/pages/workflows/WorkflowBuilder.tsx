// The visual workflow builder: /actions/workflows/new and /actions/workflows/:ref/edit.
// Palette (left), canvas (centre), side panel (right: selected task or transition, workflow
// settings, problems, read-only YAML). The panel and the selection are in the query string
// (?panel=yaml, ?task=build, ?edge=build|0|deploy), so every view has its URL. The draft is
// validated by the API as you edit (debounced) and problems are shown on their tasks; Save
// writes actions/workflows/<name>.workflow.yaml in the pack; Run starts it and shows its graph.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ReactFlowProvider } from "@xyflow/react";
import { AlertTriangle, CheckCircle2, Loader2, Play, Save } from "lucide-react";
import { lazy, Suspense, useCallback, useDeferredValue, useEffect, useId, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, ApiError, unwrap, type Schemas } from "@/api/client";
import { getJson, type Page } from "@/api/lists";
import { Modal } from "@/components/Modal";
import { SchemaForm } from "@/components/SchemaForm";
import { ErrorState, Loading } from "@/components/states";
import { Badge, Button, cx, Field, Input, PageHeader, Select, StatusBadge } from "@/components/ui";
import { BuilderCanvas, type Selection } from "@/workflow/BuilderCanvas";
import { TaskInspector, TransitionEditor, WorkflowSettings } from "@/workflow/Inspector";
import { withPositions } from "@/workflow/layout";
import { NODE_HEIGHT } from "@/workflow/layout";
import {
  emptyWorkflow,
  freeName,
  fromDefinition,
  newTaskId,
  problemTask,
  removeTask,
  renameTask,
  toDefinition,
  toYaml,
  type Point,
  type Task,
  type Workflow,
} from "@/workflow/model";
import { Palette } from "@/workflow/Palette";

const ExecutionGraph = lazy(() => import("@/workflow/ExecutionGraph"));

type Action = Schemas["Action"];
type Problem = Schemas["WorkflowProblem"];
type Validation = Schemas["WorkflowValidation"];

const PANELS = ["task", "workflow", "problems", "yaml"] as const;
type Panel = (typeof PANELS)[number];
const NAME_RE = /^[A-Za-z0-9_-]+$/;

/** Timing marks of the load (shown by the 200-task e2e test through the console). */
function mark(what: string, since: number): true {
  console.debug(`workflow builder: ${what} at +${(performance.now() - since).toFixed(0)} ms`);
  return true;
}

async function allActions(): Promise<Action[]> {
  const out: Action[] = [];
  for (let page = 1; page < 50; page++) {
    const body = await getJson<Page<Action>>("/api/v1/actions", { page, page_size: 100 });
    out.push(...body.items);
    if (!body.pagination.has_next) break;
  }
  return out.sort((a, b) => a.ref.localeCompare(b.ref));
}

/** Debounced validation of the draft through the API. */
function useValidation(definition: Record<string, unknown>, ref: string | undefined) {
  const text = useMemo(() => JSON.stringify(definition), [definition]);
  const [result, setResult] = useState<{ data?: Validation; error?: unknown; pending: boolean }>({ pending: true });
  useEffect(() => {
    let live = true;
    setResult((r) => (r.pending ? r : { ...r, pending: true }));
    const timer = setTimeout(() => {
      unwrap(api.POST("/api/v1/workflows/validate", { body: { definition: JSON.parse(text), ref: ref ?? null } }))
        .then((body) => live && setResult({ data: body.data, pending: false }))
        .catch((error) => live && setResult({ error, pending: false }));
    }, 500);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [text, ref]);
  return result;
}

export default function WorkflowBuilder() {
  const { ref } = useParams();
  const editing = Boolean(ref);
  const existing = useQuery({
    queryKey: ["workflows", ref, "builder"],
    enabled: editing,
    queryFn: async () => {
      const body = await unwrap(api.GET("/api/v1/workflows/{ref}", { params: { path: { ref: ref! } } }));
      return { workflow: body.data, receivedAt: performance.now() };
    },
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  // the loaded workflow, for the ref it was loaded for (after "Save" of a new workflow the URL
  // changes to its edit page: the builder reopens it from what was saved)
  const [loaded, setLoaded] = useState<{ ref: string; workflow: Workflow; startedAt: number } | null>(null);
  const [fresh] = useState(() => ({ workflow: emptyWorkflow(), startedAt: performance.now() }));
  const initial = editing ? (loaded?.ref === ref ? loaded : null) : fresh;
  const [layoutError, setLayoutError] = useState<unknown>(null);

  useEffect(() => {
    if (!existing.data) return;
    const { workflow, receivedAt } = existing.data;
    let live = true;
    const model = fromDefinition(workflow.definition as Record<string, unknown>);
    if (model.header.label === undefined && workflow.label) model.header.label = workflow.label;
    if (model.header.description === undefined && workflow.description) model.header.description = workflow.description;
    mark("converted", receivedAt);
    withPositions(model.tasks)
      .then((tasks) => mark("laid out", receivedAt) && live && setLoaded({ ref: workflow.ref, workflow: { ...model, tasks }, startedAt: receivedAt }))
      .catch((e) => live && setLayoutError(e));
    return () => {
      live = false;
    };
  }, [existing.data]);

  if (editing && existing.isPending) return <Loading label="Loading the workflow…" />;
  if (existing.error) return <ErrorState error={existing.error} retry={() => existing.refetch()} />;
  if (layoutError) return <ErrorState error={layoutError} />;
  if (!initial) return <Loading label="Laying out the workflow…" />;
  return (
    <ReactFlowProvider>
      <Builder key={ref ?? "new"} initial={initial.workflow} startedAt={initial.startedAt} existing={existing.data?.workflow} />
    </ReactFlowProvider>
  );
}

function Builder(props: { initial: Workflow; startedAt: number; existing?: Schemas["Workflow"] }) {
  const { existing } = props;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const [workflow, setWorkflow] = useState<Workflow>(props.initial);
  const [saved, setSaved] = useState(() => (existing ? JSON.stringify(toDefinition(props.initial)) : null));
  const [pack, setPack] = useState(existing?.pack_ref ?? params.get("pack") ?? "");
  const [name, setName] = useState(existing ? existing.ref.split(".").slice(1).join(".") : "");
  const [renderMs, setRenderMs] = useState<number | null>(null);
  const [runOpen, setRunOpen] = useState(false);
  const ids = { pack: useId(), name: useId(), label: useId(), description: useId() };

  const panel: Panel = (PANELS as readonly string[]).includes(params.get("panel") ?? "") ? (params.get("panel") as Panel) : "task";
  const runId = Number(params.get("run")) || null;
  const setQuery = useCallback(
    (patch: Record<string, string | null>, replace = true) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [k, v] of Object.entries(patch)) (v === null ? next.delete(k) : next.set(k, v));
          return next;
        },
        { replace },
      );
    },
    [setParams],
  );

  const actions = useQuery({ queryKey: ["actions", "all"], queryFn: allActions, staleTime: 60_000 });
  const packs = useQuery({
    queryKey: ["packs", "all"],
    queryFn: () => getJson<Page<Schemas["Pack"]>>("/api/v1/packs", { page_size: 100 }),
    enabled: !existing,
  });

  // selection <-> URL (names in the URL, ids in the canvas)
  const byName = useMemo(() => new Map(workflow.tasks.map((t) => [t.name, t])), [workflow.tasks]);
  const byId = useMemo(() => new Map(workflow.tasks.map((t) => [t.id, t])), [workflow.tasks]);
  const selection: Selection = useMemo(() => {
    const task = params.get("task");
    const edge = params.get("edge");
    if (task && byName.has(task)) return { task: byName.get(task)!.id };
    if (edge) {
      const [source, index, target] = edge.split("|");
      const s = byName.get(source);
      if (s) return { edge: `${s.id}|${index}|${target}` };
    }
    return {};
  }, [params, byName]);
  const select = useCallback(
    (s: Selection) => {
      if (s.task) setQuery({ task: byId.get(s.task)?.name ?? null, edge: null, panel: "task" });
      else if (s.edge) {
        const [id, index, target] = s.edge.split("|");
        setQuery({ edge: `${byId.get(id)?.name}|${index}|${target}`, task: null, panel: "task" });
      } else setQuery({ task: null, edge: null });
    },
    [byId, setQuery],
  );

  if (renderMs === null) mark("builder render", props.startedAt);
  const definition = useMemo(() => toDefinition(workflow), [workflow]);
  const definitionText = useMemo(() => JSON.stringify(definition), [definition]);
  const dirty = saved !== definitionText;
  const ref = existing?.ref ?? (pack && name ? `${pack}.${name}` : undefined);
  const validation = useValidation(definition, ref);
  const problems = useMemo(() => [...(validation.data?.problems ?? []), ...(validation.data?.warnings ?? [])], [validation.data]);
  const problemsCache = useRef<{ key: string; map: Map<string, string[]> }>({ key: "", map: new Map() });
  const problemsByTask = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const p of validation.data?.problems ?? []) {
      const task = problemTask(p.path, workflow.tasks) ?? (p.task ? byName.get(p.task) : undefined);
      if (task) map.set(task.id, [...(map.get(task.id) ?? []), `${p.field ?? p.path}: ${p.message}`]);
    }
    // the same problems keep the same map, so the canvas does not redraw every task
    const key = JSON.stringify([...map]);
    if (key !== problemsCache.current.key) problemsCache.current = { key, map };
    return problemsCache.current.map;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [validation.data]);
  const problemsFor = (task: Task): Problem[] =>
    problems.filter((p) => (problemTask(p.path, workflow.tasks) ?? (p.task ? byName.get(p.task) : undefined))?.id === task.id);

  const addTask = useCallback(
    (actionRef: string, position?: Point) => {
      setWorkflow((w) => {
        const base = actionRef.split(".").slice(1).join("_") || actionRef;
        const bottom = w.tasks.length ? Math.max(...w.tasks.map((t) => t.position?.y ?? 0)) + NODE_HEIGHT + 60 : 0;
        const task: Task = { id: newTaskId(), name: freeName(w.tasks, base), action: actionRef, next: [], position: position ?? { x: 0, y: bottom } };
        setTimeout(() => setQuery({ task: task.name, edge: null, panel: "task" }));
        return { ...w, tasks: [...w.tasks, task] };
      });
    },
    [setQuery],
  );

  const deleteTasks = useCallback((gone: string[]) => setWorkflow((w) => gone.reduce((acc, id) => removeTask(acc, id), w)), []);
  const updateTask = (task: Task) => setWorkflow((w) => ({ ...w, tasks: w.tasks.map((t) => (t.id === task.id ? task : t)) }));
  const rename = (task: Task, next: string): string | null => {
    if (!NAME_RE.test(next)) return "Letters, digits, _ and - only.";
    if (next === "noop" || next === "fail") return `"${next}" is reserved.`;
    if (workflow.tasks.some((t) => t.name === next && t.id !== task.id)) return "Another task has this name.";
    setWorkflow((w) => renameTask(w, task.id, next));
    setQuery({ task: next });
    return null;
  };

  const save = useMutation({
    mutationFn: async () => {
      const header = workflow.header;
      const meta = {
        label: (header.label as string) || name,
        description: (header.description as string) || null,
        param_schema: (header.parameters as Record<string, unknown>) ?? null,
        tags: Array.isArray(header.tags) ? (header.tags as string[]) : null,
      };
      if (existing) {
        await unwrap(api.PUT("/api/v1/workflows/{ref}/file", { params: { path: { ref: existing.ref } }, body: { definition } }));
        const body = await unwrap(api.PUT("/api/v1/workflows/{ref}", { params: { path: { ref: existing.ref } }, body: meta }));
        return body.data;
      }
      const body = await unwrap(
        api.POST("/api/v1/packs/{ref}/workflow-files", { params: { path: { ref: pack } }, body: { name, definition, ...meta } }),
      );
      return body.data.workflow;
    },
    onSuccess: (wf) => {
      setSaved(definitionText);
      void queryClient.invalidateQueries({ queryKey: ["actions"] });
      if (!existing) {
        queryClient.setQueryData(["workflows", wf.ref, "builder"], { workflow: wf, receivedAt: performance.now() });
        navigate(`/actions/workflows/${wf.ref}/edit${location.search}`, { replace: true });
      }
    },
  });

  const run = useMutation({
    mutationFn: async (parameters: Record<string, unknown>) => {
      const body = await unwrap(api.POST("/api/v1/executions/execute", { body: { action_ref: existing!.ref, parameters } }));
      return body.data;
    },
    onSuccess: (execution) => {
      setRunOpen(false);
      setQuery({ run: String(execution.id) }, false);
    },
  });

  const nameError = !existing && name && !NAME_RE.test(name) ? "Letters, digits, _ and - only." : null;
  const canSave = Boolean(pack && name && !nameError) && !save.isPending;
  const parameters = (workflow.header.parameters ?? {}) as Record<string, unknown>;
  const hasParameters = Object.keys(parameters).length > 0;

  const selectedTask = selection.task ? byId.get(selection.task) : undefined;
  const selectedEdge = useMemo(() => {
    if (!selection.edge) return undefined;
    const [id, index, target] = selection.edge.split("|");
    const task = byId.get(id);
    const transition = task?.next[Number(index)];
    return task && transition ? { task, index: Number(index), transition, target } : undefined;
  }, [selection.edge, byId]);

  const onRendered = useCallback(() => {
    const ms = performance.now() - props.startedAt;
    setRenderMs(ms);
    console.info(`workflow builder: ${workflow.tasks.length} tasks rendered in ${ms.toFixed(0)} ms`);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.startedAt]);

  const status = validation.pending ? (
    <span role="status" className="inline-flex items-center gap-1 text-xs text-slate-500">
      <Loader2 className="h-3 w-3 animate-spin" aria-hidden /> Validating…
    </span>
  ) : validation.error ? (
    <span role="status" className="text-xs text-amber-700 dark:text-amber-400">
      Validation unavailable: {validation.error instanceof Error ? validation.error.message : String(validation.error)}
    </span>
  ) : validation.data?.valid ? (
    <span role="status" data-testid="validation" data-valid="true" className="inline-flex items-center gap-1 text-xs text-green-700 dark:text-green-400">
      <CheckCircle2 className="h-3 w-3" aria-hidden /> Valid{validation.data.warnings.length ? ` (${validation.data.warnings.length} warnings)` : ""}
    </span>
  ) : (
    <button
      type="button"
      data-testid="validation"
      data-valid="false"
      onClick={() => setQuery({ panel: "problems" })}
      className="inline-flex items-center gap-1 text-xs text-red-700 underline dark:text-red-400"
    >
      <AlertTriangle className="h-3 w-3" aria-hidden /> {validation.data?.problems.length} problem{validation.data?.problems.length === 1 ? "" : "s"}
    </button>
  );

  return (
    <div className="flex flex-col gap-3">
      <PageHeader
        title={existing ? `Edit workflow ${existing.ref}` : "New workflow"}
        subtitle={
          <span className="inline-flex flex-wrap items-center gap-2">
            {workflow.tasks.length} task{workflow.tasks.length === 1 ? "" : "s"} {status}
            {dirty ? <Badge tone="amber">unsaved changes</Badge> : existing ? <Badge tone="green">saved</Badge> : null}
          </span>
        }
        actions={
          <>
            {existing && (
              <Link to={`/actions/${existing.ref}`} className="text-sm text-indigo-600 underline dark:text-indigo-400">
                Action page
              </Link>
            )}
            <Button variant="primary" disabled={!canSave} onClick={() => save.mutate()}>
              {save.isPending ? <Loader2 className="h-4 w-4 animate-spin" aria-hidden /> : <Save className="h-4 w-4" aria-hidden />} Save
            </Button>
            <Button
              disabled={!existing || dirty || run.isPending}
              title={!existing ? "Save the workflow first" : dirty ? "Save your changes first" : undefined}
              onClick={() => (hasParameters ? setRunOpen(true) : run.mutate({}))}
            >
              <Play className="h-4 w-4" aria-hidden /> Run
            </Button>
          </>
        }
      />
      {save.error && <ErrorState error={save.error} />}
      {save.isSuccess && !dirty && (
        <p role="status" className="text-sm text-green-700 dark:text-green-400">
          Saved {save.data.ref}.
        </p>
      )}
      {run.error && <ErrorState error={run.error} />}
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
        <Field label="Pack" htmlFor={ids.pack} required>
          {existing ? (
            <Input id={ids.pack} value={pack} disabled />
          ) : (
            <Select id={ids.pack} value={pack} onChange={(e) => setPack(e.target.value)}>
              <option value="">{packs.isPending ? "Loading packs…" : "Choose a pack"}</option>
              {packs.data?.items.map((p) => (
                <option key={p.ref} value={p.ref}>
                  {p.ref}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Name" htmlFor={ids.name} required error={nameError} hint={!existing && pack && name ? `ref ${pack}.${name}` : undefined}>
          <Input id={ids.name} value={name} disabled={Boolean(existing)} placeholder="deploy" onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Label" htmlFor={ids.label}>
          <Input
            id={ids.label}
            value={(workflow.header.label as string) ?? ""}
            onChange={(e) => setWorkflow((w) => ({ ...w, header: { ...w.header, label: e.target.value || undefined } }))}
          />
        </Field>
        <Field label="Description" htmlFor={ids.description}>
          <Input
            id={ids.description}
            value={(workflow.header.description as string) ?? ""}
            onChange={(e) => setWorkflow((w) => ({ ...w, header: { ...w.header, description: e.target.value || undefined } }))}
          />
        </Field>
      </div>
      <div className="grid h-[calc(100vh-15rem)] min-h-[520px] grid-cols-[220px_minmax(0,1fr)_340px] gap-3">
        <Palette actions={actions.data} error={actions.error} retry={() => actions.refetch()} onAdd={(r) => addTask(r)} />
        <div
          className="relative overflow-hidden rounded-lg border border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-950"
          data-testid="builder-canvas"
          data-render-ms={renderMs === null ? undefined : renderMs.toFixed(1)}
          aria-label="Workflow canvas"
          role="application"
        >
          <BuilderCanvas
            workflow={workflow}
            onChange={setWorkflow}
            selection={selection}
            onSelect={select}
            problems={problemsByTask}
            onDropAction={addTask}
            onDeleteTasks={deleteTasks}
            onRendered={onRendered}
          />
          {workflow.tasks.length === 0 && (
            <div className="pointer-events-none absolute inset-0 flex items-center justify-center p-6 text-center text-sm text-slate-500">
              Drag actions from the palette onto the canvas (or use their + button), then connect the tasks from their coloured handles:
              green on success, red on failure, grey always.
            </div>
          )}
        </div>
        <aside className="flex min-h-0 flex-col rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900" aria-label="Side panel">
          <div role="tablist" aria-label="Panels" className="flex border-b border-slate-200 text-sm dark:border-slate-800">
            {PANELS.map((p) => (
              <button
                key={p}
                role="tab"
                type="button"
                aria-selected={panel === p}
                onClick={() => setQuery({ panel: p })}
                className={cx(
                  "flex-1 px-2 py-2 capitalize",
                  panel === p ? "border-b-2 border-indigo-600 font-semibold text-indigo-700 dark:text-indigo-300" : "text-slate-600 dark:text-slate-400",
                )}
              >
                {p === "yaml" ? "YAML" : p}
                {p === "problems" && problems.length > 0 && <span className="ml-1 rounded bg-red-600 px-1 text-[10px] text-white">{problems.length}</span>}
              </button>
            ))}
          </div>
          <div role="tabpanel" aria-label={panel} className="min-h-0 flex-1 overflow-auto p-3">
            {panel === "task" &&
              (selectedTask ? (
                <TaskInspector
                  key={selectedTask.id}
                  task={selectedTask}
                  tasks={workflow.tasks}
                  actions={actions.data ?? []}
                  problems={problemsFor(selectedTask)}
                  onChange={updateTask}
                  onRename={(n) => rename(selectedTask, n)}
                  onRemove={() => {
                    setWorkflow((w) => removeTask(w, selectedTask.id));
                    select({});
                  }}
                />
              ) : selectedEdge ? (
                <div className="space-y-2">
                  <p className="text-sm">
                    Transition from <strong>{selectedEdge.task.name}</strong> to <strong>{selectedEdge.target}</strong>. Double-click the
                    selected edge to add a waypoint; drag waypoints and the label; double-click a waypoint to remove it.
                  </p>
                  <TransitionEditor
                    index={selectedEdge.index}
                    transition={selectedEdge.transition}
                    taskNames={workflow.tasks.map((t) => t.name)}
                    onChange={(tr) =>
                      updateTask({ ...selectedEdge.task, next: selectedEdge.task.next.map((x, i) => (i === selectedEdge.index ? tr : x)) })
                    }
                    onRemove={() => {
                      updateTask({ ...selectedEdge.task, next: selectedEdge.task.next.filter((_, i) => i !== selectedEdge.index) });
                      select({});
                    }}
                  />
                </div>
              ) : (
                <p className="text-sm text-slate-500 dark:text-slate-400">Select a task or a transition on the canvas to edit it.</p>
              ))}
            {panel === "workflow" && <WorkflowSettings workflow={workflow} onChange={(header) => setWorkflow((w) => ({ ...w, header }))} />}
            {panel === "problems" &&
              (problems.length === 0 ? (
                <p className="text-sm text-slate-500">{validation.pending ? "Validating…" : "No problems found."}</p>
              ) : (
                <ul className="space-y-2 text-sm" aria-label="Problems">
                  {problems.map((p, i) => {
                    const task = problemTask(p.path, workflow.tasks) ?? (p.task ? byName.get(p.task) : undefined);
                    return (
                      <li key={i} className={p.severity === "error" ? "text-red-700 dark:text-red-400" : "text-amber-700 dark:text-amber-400"}>
                        <span className="font-mono text-xs">{p.path || "(workflow)"}</span>
                        {p.severity === "warning" && " (warning)"}: {p.message}
                        {task && (
                          <button type="button" className="ml-1 text-indigo-600 underline dark:text-indigo-400" onClick={() => select({ task: task.id })}>
                            show {task.name}
                          </button>
                        )}
                      </li>
                    );
                  })}
                </ul>
              ))}
            {panel === "yaml" && (
              <div className="space-y-2">
                <p className="text-xs text-slate-500 dark:text-slate-400">
                  Read-only: what Save writes to {pack && name ? `${pack}/actions/workflows/${name}.workflow.yaml` : "the pack"}.
                </p>
                <YamlView workflow={workflow} />
              </div>
            )}
          </div>
        </aside>
      </div>
      {runId && existing && <RunPanel id={runId} onClose={() => setQuery({ run: null }, false)} />}
      <Modal open={runOpen} title={`Run ${existing?.ref ?? ""}`} onClose={() => setRunOpen(false)}>
        <RunForm schema={parameters} pending={run.isPending} onRun={(values) => run.mutate(values)} />
      </Modal>
    </div>
  );
}

function YamlView({ workflow }: { workflow: Workflow }) {
  const deferred = useDeferredValue(workflow);
  const text = useMemo(() => toYaml(deferred), [deferred]);
  return (
    <pre aria-label="Workflow YAML" data-testid="workflow-yaml" className="overflow-auto rounded bg-slate-50 p-2 font-mono text-xs dark:bg-slate-950">
      {text}
    </pre>
  );
}

function RunForm(props: { schema: Record<string, unknown>; pending: boolean; onRun: (values: Record<string, unknown>) => void }) {
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [tried, setTried] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  return (
    <form
      ref={form}
      className="space-y-3"
      onSubmit={(e) => {
        e.preventDefault();
        setTried(true);
        if (Object.keys(errors).length === 0) props.onRun(values);
      }}
    >
      <SchemaForm
        schema={props.schema}
        value={values}
        showErrors={tried}
        onChange={(v, errs) => {
          setValues(v);
          setErrors(errs as Record<string, string>);
        }}
      />
      <Button type="submit" variant="primary" disabled={props.pending}>
        <Play className="h-4 w-4" aria-hidden /> Start
      </Button>
    </form>
  );
}

function RunPanel(props: { id: number; onClose: () => void }) {
  const execution = useQuery({
    queryKey: ["executions", props.id],
    queryFn: () => unwrap(api.GET("/api/v1/executions/{id}", { params: { path: { id: props.id } } })),
    refetchInterval: (q) => (["completed", "failed", "cancelled", "timeout", "abandoned"].includes(q.state.data?.data.status ?? "") ? false : 3000),
  });
  const data = execution.data?.data;
  return (
    <section aria-label={`Run ${props.id}`} className="space-y-2 rounded-lg border border-slate-200 p-3 dark:border-slate-800">
      <header className="flex items-center justify-between gap-2">
        <h2 className="flex items-center gap-2 text-sm font-semibold">
          Run <Link to={`/executions/${props.id}`} className="text-indigo-600 underline dark:text-indigo-400">#{props.id}</Link>
          {data && <span data-testid="run-status"><StatusBadge status={data.status} /></span>}
        </h2>
        <Button size="sm" variant="ghost" onClick={props.onClose}>
          Close
        </Button>
      </header>
      {execution.error ? (
        <ErrorState error={execution.error} retry={() => execution.refetch()} />
      ) : !data ? (
        <Loading />
      ) : (
        <Suspense fallback={<Loading label="Loading the graph…" />}>
          <ExecutionGraph execution={data} height={360} />
        </Suspense>
      )}
      {execution.error instanceof ApiError && execution.error.status === 404 && <p>This execution no longer exists.</p>}
    </section>
  );
}
