// One execution: status (live), action, origin links, parameters (secrets masked by the API),
// result (collapsed when large), logs that follow a running execution, status history, child
// executions as a tree, the workflow's tasks (and graph), cancel and re-run.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Ban, RotateCcw } from "lucide-react";
import { lazy, Suspense, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, type Schemas, unwrap } from "@/api/client";
import { getJson, type Page } from "@/api/lists";
import { ChildTree } from "@/components/exec/ChildTree";
import { ConfirmButton } from "@/components/exec/ConfirmButton";
import { TERMINAL } from "@/components/exec/ExecutionTable";
import { HistoryPanel } from "@/components/exec/HistoryPanel";
import { LogPanel } from "@/components/exec/LogPanel";
import { WorkflowTasks } from "@/components/exec/WorkflowTasks";
import { JsonView } from "@/components/JsonView";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Button, Card, PageHeader, Properties, StatusBadge } from "@/components/ui";
import { dateTime, duration } from "@/lib/format";

type Execution = Schemas["Execution"];

// The workflow graph (another part of the UI) is embedded when it is part of the build.
const graphModules = import.meta.glob<{
  default: React.ComponentType<{ execution: Pick<Execution, "id" | "action_ref" | "status">; height?: number | string }>;
}>("../../workflow/ExecutionGraph.tsx");
const graphLoader = Object.values(graphModules)[0];
const ExecutionGraph = graphLoader ? lazy(graphLoader) : null;

const LARGE_RESULT = 100_000; // characters of JSON

function ResultView({ result }: { result: unknown }) {
  const size = useMemo(() => JSON.stringify(result ?? null).length, [result]);
  const [shown, setShown] = useState(false);
  if (result === null || result === undefined) return <Empty title="No result yet" />;
  if (size > LARGE_RESULT && !shown)
    return (
      <div className="flex items-center gap-3 text-sm">
        <span>The result is large ({(size / 1024).toFixed(0)} KB of JSON).</span>
        <Button size="sm" onClick={() => setShown(true)}>
          Show result
        </Button>
      </div>
    );
  return <JsonView value={result} label="Result" />;
}

function useExecution(id: number) {
  return useQuery({
    queryKey: ["executions", id],
    queryFn: () => getJson<{ data: Execution }>(`/api/v1/executions/${id}`).then((b) => b.data),
  });
}

export default function ExecutionDetail() {
  const id = Number(useParams().id);
  const execution = useExecution(id);
  if (!Number.isInteger(id) || id <= 0) return <ErrorState error={new Error("Not an execution id.")} />;
  if (execution.isPending) return <Loading label="Loading execution…" />;
  if (execution.error)
    return (
      <ErrorState
        error={execution.error instanceof ApiError && execution.error.status === 404 ? new Error(`Execution ${id} does not exist.`) : execution.error}
        retry={() => execution.refetch()}
      />
    );
  return <Detail execution={execution.data} />;
}

function Detail({ execution: e }: { execution: Execution }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const running = !TERMINAL.has(e.status);
  const enforcement = useQuery({
    queryKey: ["enforcements", e.enforcement],
    queryFn: () => getJson<{ data: Schemas["Enforcement"] }>(`/api/v1/enforcements/${e.enforcement}`).then((b) => b.data),
    enabled: e.enforcement !== null,
    staleTime: 60_000,
  });
  const workflow = useQuery({
    queryKey: ["executions", e.id, "workflow"],
    queryFn: () => unwrap(api.GET("/api/v1/executions/{id}/workflow", { params: { path: { id: e.id } } })).then((b) => b.data),
    retry: false,
  });
  const isWorkflow = workflow.isSuccess;
  const children = useQuery({
    queryKey: ["executions", "children-all", e.id],
    queryFn: () => getJson<Page<Schemas["ExecutionSummary"]>>("/api/v1/executions", { parent: e.id, page_size: 100 }),
    enabled: isWorkflow,
  });

  const cancel = async () => {
    await unwrap(api.POST("/api/v1/executions/{id}/cancel", { params: { path: { id: e.id } } }));
    await client.invalidateQueries({ queryKey: ["executions"] });
  };
  const rerun = async () => {
    const body = await unwrap(api.POST("/api/v1/executions/{id}/rerun", { params: { path: { id: e.id } } }));
    navigate(`/executions/${body.data.id}`);
  };

  const event = enforcement.data?.event;
  const task = e.workflow_task && typeof e.workflow_task.task_name === "string" ? e.workflow_task.task_name : null;
  return (
    <div className="space-y-4">
      <PageHeader
        title={
          <span className="flex items-center gap-3">
            Execution #{e.id}
            <span data-testid="execution-status">
              <StatusBadge status={e.status} />
            </span>
          </span>
        }
        subtitle={
          <>
            <Link to={`/actions/${encodeURIComponent(e.action_ref)}`} className="text-indigo-700 hover:underline dark:text-indigo-300">
              {e.action_ref}
            </Link>
            {task && <> · task {task}</>}
            {running && <> · running for {duration(e.started_at ?? e.created, null)}</>}
          </>
        }
        actions={
          <>
            {running && (
              <ConfirmButton
                label="Cancel"
                title={`Cancel execution #${e.id}?`}
                message={<p>The worker stops the action; a workflow cancels its running tasks.</p>}
                confirm="Cancel execution"
                variant="danger"
                icon={<Ban className="h-4 w-4" aria-hidden />}
                disabled={e.status === "canceling"}
                onConfirm={cancel}
              />
            )}
            <ConfirmButton
              label="Re-run"
              title={`Run ${e.action_ref} again?`}
              message={<p>A new execution starts with the same parameters as #{e.id}.</p>}
              confirm="Re-run"
              variant="primary"
              icon={<RotateCcw className="h-4 w-4" aria-hidden />}
              onConfirm={rerun}
            />
          </>
        }
      />
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Overview">
          <Properties
            items={[
              ["Status", <StatusBadge key="s" status={e.status} />],
              ["Action", <Link key="a" to={`/actions/${encodeURIComponent(e.action_ref)}`} className="text-indigo-700 hover:underline dark:text-indigo-300">{e.action_ref}</Link>],
              ["Created", dateTime(e.created)],
              ["Started", dateTime(e.started_at)],
              ["Updated", dateTime(e.updated)],
              ["Duration", e.started_at ? duration(e.started_at, running ? null : e.updated) : "—"],
              ["Parent", e.parent ? <Link key="p" to={`/executions/${e.parent}`} className="text-indigo-700 hover:underline dark:text-indigo-300">#{e.parent}</Link> : null],
              ["Re-run of", e.original_execution ? <Link key="o" to={`/executions/${e.original_execution}`} className="text-indigo-700 hover:underline dark:text-indigo-300">#{e.original_execution}</Link> : null],
              ["Rule", e.rule_ref ? <Link key="r" to={`/rules/${encodeURIComponent(e.rule_ref)}`} className="text-indigo-700 hover:underline dark:text-indigo-300">{e.rule_ref}</Link> : null],
              ["Trigger", e.trigger_ref ? <Link key="t" to={`/triggers/${encodeURIComponent(e.trigger_ref)}`} className="text-indigo-700 hover:underline dark:text-indigo-300">{e.trigger_ref}</Link> : null],
              ["Enforcement", e.enforcement ? <Link key="en" to={`/enforcements/${e.enforcement}`} className="text-indigo-700 hover:underline dark:text-indigo-300">#{e.enforcement}</Link> : null],
              ["Event", event ? <Link key="ev" to={`/events/${event}`} className="text-indigo-700 hover:underline dark:text-indigo-300">#{event}</Link> : null],
              ["Worker", e.worker ? `#${e.worker}` : null],
            ].filter(([label, value]) => value !== null || ["Rule", "Started"].includes(label as string)) as [string, React.ReactNode][]}
          />
        </Card>
        <Card title="Parameters">
          {e.config && Object.keys(e.config).length ? <JsonView value={e.config} label="Parameters" /> : <p className="text-sm text-slate-500">No parameters.</p>}
        </Card>
      </div>
      {isWorkflow && (
        <>
          {ExecutionGraph && (
            <Card title="Workflow graph">
              <Suspense fallback={<Loading label="Loading graph…" />}>
                <ExecutionGraph execution={e} />
              </Suspense>
            </Card>
          )}
          <Card title="Workflow tasks">
            {children.error ? (
              <ErrorState error={children.error} retry={() => children.refetch()} />
            ) : (
              <WorkflowTasks state={workflow.data} children={children.data?.items ?? []} />
            )}
          </Card>
        </>
      )}
      <Card title="Output">
        <LogPanel id={e.id} running={running} />
      </Card>
      <Card title="Result">
        <ResultView result={e.result} />
      </Card>
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Status history">
          <HistoryPanel id={e.id} />
        </Card>
        <Card title="Child executions">
          <ChildTree parent={e.id} />
        </Card>
      </div>
    </div>
  );
}
