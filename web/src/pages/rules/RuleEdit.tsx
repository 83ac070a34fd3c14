// Create (/rules/new) or edit (/rules/:ref/edit) a rule: pack and name, trigger and action
// pickers, trigger parameters and action parameters as forms from their schemas (action
// parameters may be templates such as {{ event.payload.host }}), conditions in either form
// with live validation by the server, and whether it is enabled.
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";
import { type Schemas, api, unwrap } from "@/api/client";
import { SchemaForm, type Values } from "@/components/SchemaForm";
import { parseSchema, validateValues } from "@/components/schemaFields";
import { ErrorState, Loading } from "@/components/states";
import { Button, Card, Field, Input, PageHeader, Select, TextArea } from "@/components/ui";
import { errorText, send, useAllRows, useInvalidate } from "@/components/catalog";
import { ConditionEditor, useServerCheck } from "./ConditionEditor";
import { type ConditionState, fromConditions, localProblems, toConditions } from "./conditions";
import { RefPicker } from "./RefPicker";

type Rule = Schemas["Rule"];
type Trigger = Schemas["Trigger"];
type Action = Schemas["Action"];
type Pack = Schemas["Pack"];

export default function RuleEdit() {
  const ref = useParams().ref;
  const query = useQuery({
    queryKey: ["rules", ref],
    enabled: Boolean(ref),
    queryFn: () => unwrap(api.GET("/api/v1/rules/{ref}", { params: { path: { ref: ref! } } })).then((b) => b.data),
  });
  if (ref && query.isPending) return <Loading />;
  if (ref && query.error) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  return <RuleForm key={ref ?? "new"} rule={ref ? query.data : undefined} />;
}

function RuleForm({ rule }: { rule?: Rule }) {
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const [search] = useSearchParams();
  const packs = useAllRows<Pack>(["packs"], "/api/v1/packs");
  const triggers = useAllRows<Trigger>(["triggers"], "/api/v1/triggers");
  const actions = useAllRows<Action>(["actions"], "/api/v1/actions");

  const [packRef, setPackRef] = useState(rule?.pack_ref ?? search.get("pack") ?? "");
  const [name, setName] = useState(rule ? rule.ref.slice(rule.pack_ref.length + 1) : "");
  const [label, setLabel] = useState(rule?.label ?? "");
  const [description, setDescription] = useState(rule?.description ?? "");
  const [triggerRef, setTriggerRef] = useState(rule?.trigger_ref ?? search.get("trigger") ?? "");
  const [actionRef, setActionRef] = useState(rule?.action_ref ?? search.get("action") ?? "");
  const [triggerParams, setTriggerParams] = useState<Values>(rule?.trigger_params ?? {});
  const [actionParams, setActionParams] = useState<Values>(rule?.action_params ?? {});
  const [conditions, setConditions] = useState<ConditionState>(fromConditions(rule?.conditions));
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [showErrors, setShowErrors] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const trigger = triggers.rows.find((t) => t.ref === triggerRef);
  const action = actions.rows.find((a) => a.ref === actionRef);
  const payloadFields = useMemo(() => parseSchema(trigger?.out_schema).map((f) => f.name), [trigger]);
  const local = localProblems(conditions);
  const check = useServerCheck(
    { conditions: toConditions(conditions), trigger_ref: triggerRef || null, trigger_params: triggerParams },
    local.length === 0 && (conditions.mode !== "none" || Object.keys(triggerParams).length > 0),
  );

  const problems: string[] = [];
  if (!rule && !packRef) problems.push("Choose a pack.");
  if (!rule && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) problems.push("Give the rule a name (letters, digits, _ . -).");
  if (!trigger) problems.push(triggerRef ? `Unknown trigger ${triggerRef}.` : "Choose a trigger.");
  if (!action) problems.push(actionRef ? `Unknown action ${actionRef}.` : "Choose an action.");
  const triggerErrors = validateValues(trigger?.param_schema, triggerParams);
  const actionErrors = validateValues(action?.param_schema, actionParams, { allowTemplates: true });
  problems.push(...Object.values(triggerErrors), ...Object.values(actionErrors), ...local);

  const save = async () => {
    setShowErrors(true);
    if (problems.length > 0) return;
    setBusy(true);
    setError(null);
    const body = {
      label: label || name,
      description: description || null,
      trigger_ref: triggerRef,
      action_ref: actionRef,
      trigger_params: triggerParams,
      action_params: actionParams,
      conditions: toConditions(conditions),
      enabled,
    };
    try {
      const saved = rule
        ? await send<Rule>(`/api/v1/rules/${encodeURIComponent(rule.ref)}`, body, "PUT")
        : await send<Rule>("/api/v1/rules", { ...body, ref: `${packRef}.${name}`, pack_ref: packRef });
      await invalidate("rules");
      navigate(`/rules/${encodeURIComponent(saved.ref)}`);
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };

  return (
    <form
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <PageHeader
        title={rule ? `Edit ${rule.ref}` : "New rule"}
        subtitle="When the trigger fires and the conditions hold, the action runs with these parameters."
        actions={
          <>
            <Button onClick={() => navigate(rule ? `/rules/${encodeURIComponent(rule.ref)}` : "/rules")}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={busy}>
              {busy ? "Saving…" : rule ? "Save rule" : "Create rule"}
            </Button>
          </>
        }
      />
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Rule">
          <div className="space-y-3">
            <div className="grid grid-cols-2 gap-3">
              <Field label="Pack" htmlFor="rule-pack" required>
                <Select id="rule-pack" value={packRef} disabled={Boolean(rule)} onChange={(e) => setPackRef(e.target.value)}>
                  <option value="">{packs.isPending ? "Loading…" : "— choose —"}</option>
                  {packs.rows.map((p) => (
                    <option key={p.ref} value={p.ref}>
                      {p.ref}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field label="Name" htmlFor="rule-name" required hint={packRef && name ? `Ref: ${packRef}.${name}` : undefined}>
                <Input id="rule-name" value={name} disabled={Boolean(rule)} onChange={(e) => setName(e.target.value.trim())} />
              </Field>
            </div>
            <Field label="Label" htmlFor="rule-label">
              <Input id="rule-label" value={label} placeholder={name} onChange={(e) => setLabel(e.target.value)} />
            </Field>
            <Field label="Description" htmlFor="rule-description">
              <TextArea id="rule-description" className="font-sans" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
            </Field>
            <label className="inline-flex items-center gap-2 text-sm">
              <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
            </label>
          </div>
        </Card>
        <Card title="When">
          <div className="space-y-4">
            <RefPicker
              label="Trigger"
              required
              items={triggers.rows}
              loading={triggers.isPending}
              value={triggerRef}
              onChange={(next) => {
                setTriggerRef(next);
                if (next !== triggerRef) setTriggerParams({});
              }}
            />
            {trigger && parseSchema(trigger.param_schema).length > 0 && (
              <div>
                <h3 className="mb-2 text-sm font-semibold">Trigger parameters</h3>
                <SchemaForm schema={trigger.param_schema} value={triggerParams} showErrors={showErrors} onChange={(v) => setTriggerParams(v)} />
              </div>
            )}
            {payloadFields.length > 0 && (
              <p className="text-xs text-slate-500 dark:text-slate-400">
                Payload fields: {payloadFields.map((f) => <code key={f} className="mr-1">{`payload.${f}`}</code>)}
              </p>
            )}
            <div>
              <h3 className="mb-2 text-sm font-semibold">Conditions</h3>
              <ConditionEditor value={conditions} onChange={setConditions} check={check} />
            </div>
          </div>
        </Card>
      </div>
      <Card title="Then">
        <div className="space-y-4">
          <RefPicker label="Action" required items={actions.rows} loading={actions.isPending} value={actionRef} onChange={setActionRef} />
          {action && (
            <div>
              <h3 className="mb-1 text-sm font-semibold">Action parameters</h3>
              <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">
                Values may be templates rendered for each event, e.g. <code>{"{{ event.payload.host }}"}</code> or <code>{"{{ pack.config.token }}"}</code>.
              </p>
              <SchemaForm
                schema={action.param_schema}
                value={actionParams}
                allowTemplates
                showErrors={showErrors}
                emptyText="This action takes no parameters."
                onChange={(v) => setActionParams(v)}
              />
            </div>
          )}
        </div>
      </Card>
      {showErrors && problems.length > 0 && (
        <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/40 dark:text-red-300">
          <ul className="list-inside list-disc">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {error && <ErrorState error={error} />}
    </form>
  );
}
