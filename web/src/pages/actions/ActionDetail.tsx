// One action: what it is, its parameters, the rules that use it, and a run dialog (at
// ?run=1, so it has a URL) whose form comes from param_schema; running it opens the execution.
import { useQuery } from "@tanstack/react-query";
import { Pencil, Play } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { type Schemas, api, unwrap } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { Modal } from "@/components/Modal";
import { SchemaForm, type Values } from "@/components/SchemaForm";
import { validateValues } from "@/components/schemaFields";
import { ParameterTable } from "@/components/ParameterTable";
import { ErrorState, Empty, QueryState } from "@/components/states";
import { Badge, Button, Card, PageHeader, Properties, StatusBadge } from "@/components/ui";
import { DeleteButton, RefLink, errorText, send, useAllRows, useInvalidate, useQueryParam } from "@/components/catalog";
import { dateTime } from "@/lib/format";

type Action = Schemas["Action"];
type Rule = Schemas["Rule"];

export default function ActionDetail() {
  const ref = useParams().ref!;
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const [run, setRun] = useQueryParam("run");
  const query = useQuery({
    queryKey: ["actions", ref],
    queryFn: () => unwrap(api.GET("/api/v1/actions/{ref}", { params: { path: { ref } } })).then((b) => b.data),
  });
  return (
    <QueryState query={query}>
      {(action) => (
        <div className="space-y-4">
          <PageHeader
            title={action.ref}
            subtitle={action.description || action.label}
            actions={
              <>
                {action.workflow_def && (
                  <Link
                    to={`/actions/workflows/${encodeURIComponent(action.ref)}/edit`}
                    className="inline-flex items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 dark:border-slate-700 dark:bg-slate-900 dark:hover:bg-slate-800"
                  >
                    <Pencil className="h-4 w-4" aria-hidden /> Edit workflow
                  </Link>
                )}
                {action.is_adhoc && (
                  <DeleteButton
                    what={`action ${action.ref}`}
                    onDelete={async () => {
                      await send(`/api/v1/actions/${encodeURIComponent(action.ref)}`, undefined, "DELETE");
                      await invalidate("actions");
                      navigate("/actions");
                    }}
                  />
                )}
                <Button variant="primary" onClick={() => setRun("1", true)}>
                  <Play className="h-4 w-4" aria-hidden /> Run
                </Button>
              </>
            }
          />
          <div className="grid gap-4 xl:grid-cols-2">
            <Card title="About">
              <Properties
                items={[
                  ["Pack", <RefLink to={`/packs/${encodeURIComponent(action.pack_ref)}`}>{action.pack_ref}</RefLink>],
                  ["Label", action.label],
                  ["Kind", action.workflow_def ? <Badge tone="blue">workflow</Badge> : (action.runtime_ref ?? "—")],
                  ["Entry point", action.entrypoint ? <code className="break-all text-xs">{action.entrypoint}</code> : "—"],
                  ["Parameters", `${action.parameter_delivery ?? "stdin"} · ${action.parameter_format ?? "json"}`],
                  ["Output format", action.output_format ?? "text"],
                  ["Timeout", action.timeout ? `${action.timeout} s` : "default"],
                  ["Tags", action.tags?.length ? action.tags.join(", ") : "—"],
                  ["Ad hoc", action.is_adhoc ? "yes (created through the API)" : "no"],
                  ["Updated", dateTime(action.updated)],
                ]}
              />
            </Card>
            <Card title="Parameters">
              <ParameterTable schema={action.param_schema} />
            </Card>
          </div>
          {action.out_schema && Object.keys(action.out_schema).length > 0 && (
            <Card title="Output schema">
              <ParameterTable schema={action.out_schema} />
            </Card>
          )}
          <ActionRules action={action.ref} />
          <Modal open={run === "1"} title={`Run ${action.ref}`} onClose={() => setRun("")} wide>
            <RunForm action={action} onCancel={() => setRun("")} />
          </Modal>
        </div>
      )}
    </QueryState>
  );
}

function RunForm({ action, onCancel }: { action: Action; onCancel: () => void }) {
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const [value, setValue] = useState<Values>({});
  const [showErrors, setShowErrors] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="space-y-4"
      onSubmit={async (e) => {
        e.preventDefault();
        if (Object.keys(validateValues(action.param_schema, value)).length > 0) {
          setShowErrors(true);
          return;
        }
        setBusy(true);
        setError(null);
        try {
          const execution = await send<Schemas["Execution"]>("/api/v1/executions/execute", {
            action_ref: action.ref,
            parameters: value,
          });
          await invalidate("executions");
          navigate(`/executions/${execution.id}`);
        } catch (err) {
          setError(errorText(err));
          setBusy(false);
        }
      }}
    >
      <SchemaForm schema={action.param_schema} value={value} onChange={(v) => setValue(v)} showErrors={showErrors} emptyText="This action takes no parameters." />
      {error && <ErrorState error={error} />}
      <div className="flex justify-end gap-2">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={busy}>
          <Play className="h-4 w-4" aria-hidden /> {busy ? "Starting…" : "Run action"}
        </Button>
      </div>
    </form>
  );
}

function ActionRules({ action }: { action: string }) {
  const list = useAllRows<Rule>(["rules", "action", action], `/api/v1/actions/${encodeURIComponent(action)}/rules`);
  return (
    <Card title="Rules that run this action">
      {list.isPending ? (
        <p role="status" className="text-sm text-slate-500">Loading…</p>
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Rules that run this action"
          rows={list.rows}
          rowKey={(r) => r.id}
          rowHref={(r) => `/rules/${encodeURIComponent(r.ref)}`}
          maxHeight="20rem"
          empty={<Empty title="No rule runs this action." />}
          columns={[
            { key: "ref", header: "Rule", cell: (r) => <span className="font-medium">{r.ref}</span> },
            { key: "trigger", header: "Trigger", cell: (r) => r.trigger_ref },
            { key: "state", header: "State", width: "7rem", cell: (r) => <StatusBadge status={r.enabled ? "enabled" : "disabled"} /> },
          ]}
        />
      )}
    </Card>
  );
}

