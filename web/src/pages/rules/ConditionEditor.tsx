// The condition editor, in both forms the engine reads: an expression, or a list of
// field/operator/value criteria (ANDed). Checked locally at once and by the server
// (POST /api/v1/rules/validate) as the user types.
import { Plus, Trash2 } from "lucide-react";
import { useEffect, useId, useState } from "react";
import { Button, Input, Select, TextArea } from "@/components/ui";
import { send } from "@/components/catalog";
import { type ConditionMode, type ConditionState, NO_VALUE, OPERATORS, localProblems } from "./conditions";

export interface ServerCheck {
  state: "idle" | "checking" | "valid" | "invalid" | "unavailable";
  error?: string | null;
}

/** Ask the server whether these conditions (and timer params) would be accepted, debounced. */
export function useServerCheck(body: unknown, enabled: boolean): ServerCheck {
  const [check, setCheck] = useState<ServerCheck>({ state: "idle" });
  const key = JSON.stringify(body);
  useEffect(() => {
    if (!enabled) {
      setCheck({ state: "idle" });
      return;
    }
    let cancelled = false;
    setCheck((c) => ({ ...c, state: "checking" }));
    const timer = setTimeout(async () => {
      try {
        const result = await send<{ valid: boolean; error: string | null }>("/api/v1/rules/validate", JSON.parse(key));
        if (!cancelled) setCheck(result.valid ? { state: "valid" } : { state: "invalid", error: result.error });
      } catch (e) {
        if (!cancelled) setCheck({ state: "unavailable", error: e instanceof Error ? e.message : String(e) });
      }
    }, 400);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [key, enabled]);
  return check;
}

const MODES: { id: ConditionMode; label: string }[] = [
  { id: "none", label: "Every event" },
  { id: "criteria", label: "Field conditions" },
  { id: "expression", label: "Expression" },
];

export function ConditionEditor(props: { value: ConditionState; onChange: (next: ConditionState) => void; check: ServerCheck }) {
  const { value, onChange, check } = props;
  const id = useId();
  const local = localProblems(value);
  const set = (patch: Partial<ConditionState>) => onChange({ ...value, ...patch });
  const setCriterion = (index: number, patch: Partial<ConditionState["criteria"][number]>) =>
    set({ criteria: value.criteria.map((c, i) => (i === index ? { ...c, ...patch } : c)) });
  return (
    <fieldset className="space-y-3">
      <legend className="sr-only">Conditions</legend>
      <div role="radiogroup" aria-label="Match" className="flex flex-wrap gap-4 text-sm">
        {MODES.map((mode) => (
          <label key={mode.id} className="inline-flex items-center gap-1.5">
            <input
              type="radio"
              name={`${id}-mode`}
              checked={value.mode === mode.id}
              onChange={() =>
                set({
                  mode: mode.id,
                  criteria: mode.id === "criteria" && value.criteria.length === 0 ? [{ field: "", operator: "equals", value: "" }] : value.criteria,
                })
              }
            />
            {mode.label}
          </label>
        ))}
      </div>
      {value.mode === "expression" && (
        <div className="space-y-1">
          <label htmlFor={`${id}-expr`} className="block text-sm font-medium">
            Condition expression
          </label>
          <TextArea
            id={`${id}-expr`}
            rows={3}
            spellCheck={false}
            placeholder="{{ event.payload.severity == 'critical' and event.payload.count > 3 }}"
            value={value.expression}
            onChange={(e) => set({ expression: e.target.value })}
          />
          <p className="text-xs text-slate-500 dark:text-slate-400">
            True for the events that should run the action. Names: <code>event.payload</code>, <code>event.trigger_ref</code>, <code>pack.config</code>, <code>system</code>.
          </p>
        </div>
      )}
      {value.mode === "criteria" && (
        <div className="space-y-2">
          <p className="text-xs text-slate-500 dark:text-slate-400">All must hold. Fields are paths in the event, e.g. <code>payload.status</code>; values are JSON or text.</p>
          {value.criteria.map((c, i) => (
            <div key={i} className="grid grid-cols-[minmax(0,2fr)_minmax(0,1.3fr)_minmax(0,2fr)_auto] items-center gap-2">
              <Input aria-label={`Condition ${i + 1} field`} placeholder="payload.status" value={c.field} onChange={(e) => setCriterion(i, { field: e.target.value })} />
              <Select aria-label={`Condition ${i + 1} operator`} value={c.operator} onChange={(e) => setCriterion(i, { operator: e.target.value })}>
                {OPERATORS.map((op) => (
                  <option key={op} value={op}>
                    {op}
                  </option>
                ))}
              </Select>
              <Input
                aria-label={`Condition ${i + 1} value`}
                placeholder={NO_VALUE.has(c.operator) ? "(no value)" : "value"}
                disabled={NO_VALUE.has(c.operator)}
                value={c.value}
                onChange={(e) => setCriterion(i, { value: e.target.value })}
              />
              <Button variant="ghost" aria-label={`Remove condition ${i + 1}`} onClick={() => set({ criteria: value.criteria.filter((_, j) => j !== i) })}>
                <Trash2 className="h-4 w-4" aria-hidden />
              </Button>
            </div>
          ))}
          <Button size="sm" onClick={() => set({ criteria: [...value.criteria, { field: "", operator: "equals", value: "" }] })}>
            <Plus className="h-3.5 w-3.5" aria-hidden /> Add condition
          </Button>
        </div>
      )}
      <div aria-live="polite" className="text-sm">
        {local.length > 0 ? (
          <p role="alert" className="text-red-600">
            {local.join(" ")}
          </p>
        ) : check.state === "checking" ? (
          <p className="text-slate-500">Checking…</p>
        ) : check.state === "valid" ? (
          <p className="text-green-700 dark:text-green-400">The server accepts these conditions.</p>
        ) : check.state === "invalid" ? (
          <p role="alert" className="text-red-600">
            {check.error}
          </p>
        ) : check.state === "unavailable" ? (
          <p className="text-amber-700 dark:text-amber-400">Could not check the conditions: {check.error}</p>
        ) : null}
      </div>
    </fieldset>
  );
}

