// The builder's side panel editors: a task (action, input from the action's param_schema,
// with_items, join, retry, timeout, transitions with when/publish/label/color), a single
// transition, and the workflow's own parameters / vars / output.
import { Plus, Trash2 } from "lucide-react";
import { useEffect, useId, useMemo, useState } from "react";
import { parse, stringify } from "yaml";
import type { Schemas } from "@/api/client";
import { SchemaForm } from "@/components/SchemaForm";
import { Button, Field, Input, Select, TextArea } from "@/components/ui";
import type { Retry, Task, Transition, Workflow } from "./model";
import { edgeKind, KIND_COLOR, SPECIAL_TARGETS, WHEN_FOR } from "./model";

type Action = Schemas["Action"];
type Problem = Schemas["WorkflowProblem"];

/** A YAML text area for any value: edits are parsed on change, errors shown, value kept until valid. */
export function YamlField(props: {
  label: string;
  value: unknown;
  onChange: (value: unknown) => void;
  rows?: number;
  hint?: string;
  placeholder?: string;
}) {
  const id = useId();
  const serialized = useMemo(() => (props.value === undefined ? "" : stringify(props.value, { lineWidth: 0 }).trimEnd()), [props.value]);
  const [text, setText] = useState(serialized);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // follow outside changes, unless the text already means the same value
    setText((current) => {
      try {
        if (JSON.stringify(current.trim() ? parse(current) : undefined) === JSON.stringify(props.value)) return current;
      } catch {
        /* replace */
      }
      return serialized;
    });
  }, [serialized, props.value]);
  return (
    <Field label={props.label} htmlFor={id} hint={props.hint} error={error}>
      <TextArea
        id={id}
        rows={props.rows ?? 3}
        value={text}
        placeholder={props.placeholder}
        spellCheck={false}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const value = e.target.value.trim() ? parse(e.target.value) : undefined;
            setError(null);
            props.onChange(value);
          } catch (err) {
            setError(err instanceof Error ? err.message.split("\n")[0] : String(err));
          }
        }}
      />
    </Field>
  );
}

function numberOrUndefined(text: string): number | undefined {
  if (text.trim() === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function NumberField(props: { label: string; value: number | undefined; onChange: (v: number | undefined) => void; min?: number; hint?: string }) {
  const id = useId();
  return (
    <Field label={props.label} htmlFor={id} hint={props.hint}>
      <Input id={id} type="number" min={props.min ?? 0} value={props.value ?? ""} onChange={(e) => props.onChange(numberOrUndefined(e.target.value))} />
    </Field>
  );
}

function TextField(props: { label: string; value: string | undefined; onChange: (v: string) => void; placeholder?: string; list?: string; error?: string | null; hint?: string; mono?: boolean }) {
  const id = useId();
  return (
    <Field label={props.label} htmlFor={id} error={props.error} hint={props.hint}>
      <Input
        id={id}
        value={props.value ?? ""}
        list={props.list}
        placeholder={props.placeholder}
        className={props.mono ? "font-mono" : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </Field>
  );
}

export function TransitionEditor(props: {
  transition: Transition;
  index: number;
  taskNames: string[];
  onChange: (t: Transition) => void;
  onRemove: () => void;
}) {
  const { transition: t, onChange } = props;
  const kind = edgeKind(t.when);
  const targetsId = useId();
  const colorId = useId();
  const targets = [...props.taskNames, "noop", "fail"];
  return (
    <fieldset className="space-y-2 rounded border border-slate-200 p-2 dark:border-slate-700" aria-label={`Transition ${props.index + 1}`}>
      <legend className="px-1 text-xs font-semibold" style={{ color: t.color || KIND_COLOR[kind] }}>
        next[{props.index}] · {kind}
      </legend>
      <div className="flex flex-wrap gap-1" role="group" aria-label="Condition presets">
        {(["succeeded", "failed", "always"] as const).map((k) => (
          <Button key={k} size="sm" variant={kind === k ? "primary" : "secondary"} aria-pressed={kind === k} onClick={() => onChange({ ...t, when: WHEN_FOR[k] })}>
            {k}
          </Button>
        ))}
      </div>
      <TextField label="When" value={t.when} mono placeholder="(always)" onChange={(v) => onChange({ ...t, when: v === "" ? undefined : v })} />
      <Field label="Do (targets)" htmlFor={targetsId} hint="Tasks started when this transition fires; noop and fail are special targets.">
        <div id={targetsId} className="flex max-h-32 flex-wrap gap-x-3 gap-y-1 overflow-auto text-sm">
          {targets.map((name) => (
            <label key={name} className="inline-flex items-center gap-1">
              <input
                type="checkbox"
                checked={t.do.includes(name)}
                onChange={(e) => onChange({ ...t, do: e.target.checked ? [...t.do, name] : t.do.filter((d) => d !== name) })}
              />
              <span className={SPECIAL_TARGETS.has(name) ? "italic" : undefined}>{name}</span>
            </label>
          ))}
        </div>
      </Field>
      <YamlField
        label="Publish"
        rows={2}
        value={t.publish}
        placeholder={"- url: \"{{ result().url }}\""}
        hint="A list of single-key maps: variables set when the transition fires."
        onChange={(v) => onChange({ ...t, publish: Array.isArray(v) ? (v as Transition["publish"]) : v && typeof v === "object" ? Object.entries(v).map(([k, x]) => ({ [k]: x })) : undefined })}
      />
      <div className="grid grid-cols-[1fr_auto] items-end gap-2">
        <TextField label="Label" value={t.label} placeholder="(from the condition)" onChange={(v) => onChange({ ...t, label: v || undefined })} />
        <Field label="Color" htmlFor={colorId}>
          <div className="flex items-center gap-1">
            <input
              id={colorId}
              type="color"
              className="h-8 w-10 cursor-pointer rounded border border-slate-300 dark:border-slate-700"
              value={t.color && /^#[0-9a-f]{6}$/i.test(t.color) ? t.color : KIND_COLOR[kind]}
              onChange={(e) => onChange({ ...t, color: e.target.value })}
            />
            {t.color && (
              <Button size="sm" variant="ghost" onClick={() => onChange({ ...t, color: undefined })}>
                Reset
              </Button>
            )}
          </div>
        </Field>
      </div>
      {(Object.keys(t.waypoints ?? {}).length > 0 || Object.keys(t.labelPositions ?? {}).length > 0) && (
        <Button size="sm" variant="ghost" onClick={() => onChange({ ...t, waypoints: undefined, labelPositions: undefined })}>
          Reset edge routing
        </Button>
      )}
      <Button size="sm" variant="danger" onClick={props.onRemove}>
        <Trash2 className="h-3 w-3" aria-hidden /> Remove transition
      </Button>
    </fieldset>
  );
}

export function TaskInspector(props: {
  task: Task;
  tasks: Task[];
  actions: Action[];
  problems: Problem[];
  onChange: (task: Task) => void;
  onRename: (name: string) => string | null;
  onRemove: () => void;
}) {
  const { task, onChange } = props;
  const [name, setName] = useState(task.name);
  const [nameError, setNameError] = useState<string | null>(null);
  const [rawInput, setRawInput] = useState(false);
  useEffect(() => {
    setName(task.name);
    setNameError(null);
  }, [task.id, task.name]);
  const action = props.actions.find((a) => a.ref === task.action);
  const listId = useId();
  const joinId = useId();
  const backoffId = useId();
  const names = props.tasks.map((t) => t.name);
  const retry = task.retry ?? {};
  const setRetry = (patch: Partial<Retry>) => {
    const next = Object.fromEntries(Object.entries({ ...retry, ...patch }).filter(([, v]) => v !== undefined && v !== ""));
    onChange({ ...task, retry: Object.keys(next).length ? next : undefined });
  };
  const hasSchema = action?.param_schema && Object.keys(action.param_schema).length > 0;
  return (
    <div className="space-y-3" aria-label={`Task ${task.name}`}>
      {props.problems.length > 0 && (
        <ul role="alert" className="space-y-1 rounded border border-red-200 bg-red-50 p-2 text-xs text-red-800 dark:border-red-900 dark:bg-red-950/40 dark:text-red-300">
          {props.problems.map((p, i) => (
            <li key={i}>
              <span className="font-mono">{p.field ?? p.path}</span>: {p.message}
            </li>
          ))}
        </ul>
      )}
      <TextField
        label="Task name"
        value={name}
        error={nameError}
        onChange={(v) => {
          setName(v);
          setNameError(props.onRename(v));
        }}
      />
      <datalist id={listId}>
        {props.actions.map((a) => (
          <option key={a.ref} value={a.ref} />
        ))}
      </datalist>
      <TextField label="Action" value={task.action} list={listId} placeholder="(routing only)" mono onChange={(v) => onChange({ ...task, action: v || undefined })} />
      {action?.description && <p className="text-xs text-slate-500 dark:text-slate-400">{action.description}</p>}
      <TextField label="Description" value={task.description} onChange={(v) => onChange({ ...task, description: v || undefined })} />
      <section className="space-y-2">
        <div className="flex items-center justify-between">
          <h3 className="text-sm font-semibold">Input</h3>
          {hasSchema && (
            <Button size="sm" variant="ghost" aria-pressed={rawInput} onClick={() => setRawInput(!rawInput)}>
              {rawInput ? "Form" : "YAML"}
            </Button>
          )}
        </div>
        {hasSchema && !rawInput ? (
          <SchemaForm
            schema={action!.param_schema}
            value={(task.input ?? {}) as Record<string, unknown>}
            allowTemplates
            onChange={(value) => onChange({ ...task, input: Object.keys(value).length ? (value as Record<string, unknown>) : undefined })}
          />
        ) : (
          <YamlField
            label="Input (YAML)"
            value={task.input}
            rows={4}
            hint={task.action && !action ? "Unknown action: input as YAML." : undefined}
            onChange={(v) => onChange({ ...task, input: v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined })}
          />
        )}
      </section>
      <details className="space-y-2" open={task.with_items !== undefined || task.join !== undefined || !!task.retry || task.timeout !== undefined}>
        <summary className="cursor-pointer text-sm font-semibold">Items, join, retry, timeout</summary>
        <div className="mt-2 space-y-2">
          <TextField
            label="With items"
            mono
            value={typeof task.with_items === "string" ? task.with_items : task.with_items ? JSON.stringify(task.with_items) : ""}
            placeholder="{{ parameters.targets }}"
            onChange={(v) => {
              let value: Task["with_items"] = v || undefined;
              if (v.trim().startsWith("[")) {
                try {
                  value = JSON.parse(v);
                } catch {
                  value = v;
                }
              }
              onChange({ ...task, with_items: value });
            }}
          />
          <div className="grid grid-cols-2 gap-2">
            <NumberField label="Concurrency" value={task.concurrency} min={1} onChange={(v) => onChange({ ...task, concurrency: v })} />
            <NumberField label="Batch size" value={task.batch_size} min={1} onChange={(v) => onChange({ ...task, batch_size: v })} />
          </div>
          <Field label="Join" htmlFor={joinId} hint="Wait for all (or N) inbound tasks before starting.">
            <div className="flex gap-2">
              <Select
                id={joinId}
                value={task.join === undefined ? "" : task.join === "all" ? "all" : "count"}
                onChange={(e) => onChange({ ...task, join: e.target.value === "" ? undefined : e.target.value === "all" ? "all" : 2 })}
              >
                <option value="">no join</option>
                <option value="all">all</option>
                <option value="count">count</option>
              </Select>
              {typeof task.join === "number" && (
                <Input aria-label="Join count" type="number" min={1} value={task.join} onChange={(e) => onChange({ ...task, join: numberOrUndefined(e.target.value) ?? 1 })} />
              )}
            </div>
          </Field>
          <div className="grid grid-cols-2 gap-2">
            <NumberField label="Retry count" value={retry.count} onChange={(v) => setRetry({ count: v })} />
            <NumberField label="Retry delay (s)" value={retry.delay} onChange={(v) => setRetry({ delay: v })} />
            <Field label="Backoff" htmlFor={backoffId}>
              <Select id={backoffId} value={retry.backoff ?? ""} onChange={(e) => setRetry({ backoff: e.target.value || undefined })}>
                <option value="">constant (default)</option>
                <option value="constant">constant</option>
                <option value="linear">linear</option>
                <option value="exponential">exponential</option>
              </Select>
            </Field>
            <NumberField label="Max delay (s)" value={retry.max_delay} onChange={(v) => setRetry({ max_delay: v })} />
          </div>
          <TextField label="Retry when" mono value={retry.when} placeholder="{{ failed() }}" onChange={(v) => setRetry({ when: v || undefined })} />
          <div className="grid grid-cols-2 gap-2">
            <NumberField label="Delay (s)" value={task.delay} onChange={(v) => onChange({ ...task, delay: v })} />
            <NumberField label="Timeout (s)" value={task.timeout} min={1} onChange={(v) => onChange({ ...task, timeout: v })} />
          </div>
        </div>
      </details>
      <section className="space-y-2">
        <h3 className="text-sm font-semibold">Transitions</h3>
        {task.next.length === 0 && <p className="text-xs text-slate-500">None: drag from a coloured handle to another task, or add one here.</p>}
        {task.next.map((t, i) => (
          <TransitionEditor
            key={i}
            index={i}
            transition={t}
            taskNames={names.filter((n) => n !== task.name || true)}
            onChange={(next) => onChange({ ...task, next: task.next.map((x, j) => (j === i ? next : x)) })}
            onRemove={() => onChange({ ...task, next: task.next.filter((_, j) => j !== i) })}
          />
        ))}
        <Button size="sm" onClick={() => onChange({ ...task, next: [...task.next, { when: WHEN_FOR.succeeded, do: [] }] })}>
          <Plus className="h-3 w-3" aria-hidden /> Add transition
        </Button>
      </section>
      <Button variant="danger" size="sm" onClick={props.onRemove}>
        <Trash2 className="h-3 w-3" aria-hidden /> Delete task
      </Button>
    </div>
  );
}

export function WorkflowSettings(props: { workflow: Workflow; onChange: (header: Record<string, unknown>) => void }) {
  const header = props.workflow.header;
  const set = (key: string, value: unknown) => props.onChange({ ...header, [key]: value });
  const outputKey = "output_map" in header ? "output_map" : "output";
  return (
    <div className="space-y-3">
      <TextField label="Version" value={header.version as string | undefined} onChange={(v) => set("version", v || undefined)} />
      <TextField
        label="Tags"
        value={Array.isArray(header.tags) ? (header.tags as string[]).join(", ") : ""}
        placeholder="deploy, nightly"
        onChange={(v) => set("tags", v.trim() ? v.split(",").map((s) => s.trim()).filter(Boolean) : undefined)}
      />
      <YamlField
        label="Parameters"
        rows={6}
        value={header.parameters}
        placeholder={"env:\n  type: string\n  required: true"}
        hint="Flat schema: name: {type, default, required, secret, description}."
        onChange={(v) => set("parameters", v)}
      />
      <YamlField label="Vars" rows={4} value={header.vars} placeholder={"- attempts: 0"} hint="Initial workflow variables (a map, or a list of single-key maps)." onChange={(v) => set("vars", v)} />
      <YamlField label="Output" rows={4} value={header[outputKey]} placeholder={'url: "{{ workflow.url }}"'} hint="Rendered when the workflow ends." onChange={(v) => set(outputKey, v)} />
    </div>
  );
}
