// A form generated from a parameter schema (action param_schema, inquiry response_schema, pack
// conf_schema, trigger param_schema): one labelled control per field, chosen by its type —
// text, number, checkbox, select for enums, password for secrets, a JSON text area for arrays,
// objects and `any`. Controlled: `value` in, `onChange(value, errors)` out, as plain objects.
// Fields left empty are omitted from the value so the server applies their defaults (shown as
// placeholders). Logic lives in ./schemaFields (tested without a DOM).
import { Eye, EyeOff } from "lucide-react";
import { useId, useMemo, useState } from "react";
import {
  type Errors,
  type FieldSpec,
  type Values,
  compact,
  fromText,
  parseSchema,
  toText,
  validateValues,
} from "./schemaFields";
import { Field, Input, Select, TextArea, cx } from "./ui";

export type { Errors, FieldSpec, Values } from "./schemaFields";
export { defaultValues, parseSchema, validateValues } from "./schemaFields";

export interface SchemaFormProps {
  schema: unknown;
  value: Values;
  onChange: (value: Values, errors: Errors) => void;
  /** Show every field's problem (e.g. after a submit attempt), not only those of touched fields. */
  showErrors?: boolean;
  /** Values may be Jinja templates (`{{ event.payload.x }}`), checked when rendered, not here. */
  allowTemplates?: boolean;
  disabled?: boolean;
  /** Shown when the schema has no fields. */
  emptyText?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function inputType(field: FieldSpec): string {
  switch (field.format) {
    case "email":
      return "email";
    case "uri":
    case "url":
      return "url";
    case "date":
      return "date";
    case "time":
      return "time";
    default:
      return "text";
  }
}

function formatHint(field: FieldSpec): string | undefined {
  switch (field.format) {
    case "date-time":
      return "ISO 8601, e.g. 2026-01-31T12:00:00Z";
    case "ipv4":
      return "IPv4 address";
    case "uuid":
      return "UUID";
    default:
      return undefined;
  }
}

function placeholderFor(field: FieldSpec): string | undefined {
  if (field.hasDefault) {
    const text = typeof field.default === "string" ? field.default : JSON.stringify(field.default);
    return `default: ${text}`;
  }
  return formatHint(field);
}

export function SchemaForm(props: SchemaFormProps) {
  const { schema, value, onChange, allowTemplates } = props;
  const fields = useMemo(() => parseSchema(schema), [schema]);
  const prefix = useId();
  // What the user typed, with the value it produced: shown while the value is still that one
  // (so "1." or half-written JSON stays as typed); a value changed from outside wins.
  const [drafts, setDrafts] = useState<Record<string, { text: string; produced: unknown }>>({});
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [revealed, setRevealed] = useState<Record<string, boolean>>({});
  const errors = useMemo(() => validateValues(schema, value, { allowTemplates }), [schema, value, allowTemplates]);

  if (fields.length === 0) {
    return <p className="text-sm text-slate-500 dark:text-slate-400">{props.emptyText ?? "No parameters."}</p>;
  }

  const emit = (name: string, next: unknown) => {
    const updated = compact({ ...value, [name]: next });
    onChange(updated, validateValues(schema, updated, { allowTemplates }));
  };
  const setText = (field: FieldSpec, text: string) => {
    const produced = fromText(field, text);
    setDrafts((d) => ({ ...d, [field.name]: { text, produced } }));
    emit(field.name, produced);
  };
  const textOf = (field: FieldSpec) => {
    const draft = drafts[field.name];
    return draft && same(draft.produced, value[field.name]) ? draft.text : toText(field, value[field.name]);
  };
  const touch = (name: string) => setTouched((t) => (t[name] ? t : { ...t, [name]: true }));

  return (
    <div className="space-y-3">
      {fields.map((field) => {
        const id = `${prefix}-${field.name}`;
        const error = props.showErrors || touched[field.name] ? (errors[field.name] ?? null) : null;
        const common = {
          id,
          name: field.name,
          disabled: props.disabled,
          "aria-invalid": error ? true : undefined,
          onBlur: () => touch(field.name),
        };
        const hint = [
          field.description,
          field.type === "array" || field.type === "object" || field.type === "any"
            ? `JSON ${field.type === "any" ? "value" : field.type}${allowTemplates ? " or a {{ template }}" : ""}`
            : undefined,
        ]
          .filter(Boolean)
          .join(" · ");

        if (field.type === "boolean" && !field.enum && !(field.required && !field.hasDefault)) {
          const current = value[field.name];
          const checked = typeof current === "boolean" ? current : field.default === true;
          return (
            <div key={field.name} className="space-y-1">
              <div className="flex items-center gap-2">
                <input
                  {...common}
                  type="checkbox"
                  className="h-4 w-4 rounded border-slate-300 accent-indigo-600 dark:border-slate-600"
                  checked={checked}
                  onChange={(e) => {
                    touch(field.name);
                    emit(field.name, e.target.checked);
                  }}
                />
                <label htmlFor={id} className="text-sm font-medium">
                  {field.name}
                  {field.required && <span className="text-red-600"> *</span>}
                </label>
                {typeof current !== "boolean" && field.hasDefault && (
                  <span className="text-xs text-slate-500 dark:text-slate-400">(default)</span>
                )}
              </div>
              {field.description && <p className="text-xs text-slate-500 dark:text-slate-400">{field.description}</p>}
              {error && (
                <p role="alert" className="text-xs text-red-600">
                  {error}
                </p>
              )}
            </div>
          );
        }

        let control;
        if (field.type === "boolean" && !field.enum) {
          // A required yes/no without a default: an explicit choice, so "false" is an answer too.
          const current = value[field.name];
          control = (
            <Select
              {...common}
              value={typeof current === "boolean" ? String(current) : ""}
              onChange={(e) => {
                touch(field.name);
                emit(field.name, e.target.value === "" ? undefined : e.target.value === "true");
              }}
            >
              <option value="">— choose —</option>
              <option value="true">true</option>
              <option value="false">false</option>
            </Select>
          );
        } else if (field.enum) {
          const options = field.enum;
          const index = options.findIndex((o) => same(o, value[field.name]));
          control = (
            <Select
              {...common}
              value={index >= 0 ? String(index) : ""}
              onChange={(e) => {
                touch(field.name);
                emit(field.name, e.target.value === "" ? undefined : options[Number(e.target.value)]);
              }}
            >
              <option value="">
                {field.hasDefault ? `(default: ${String(field.default)})` : field.required ? "— choose —" : "(not set)"}
              </option>
              {options.map((option, i) => (
                <option key={i} value={String(i)}>
                  {String(option)}
                </option>
              ))}
            </Select>
          );
        } else if (field.type === "array" || field.type === "object" || field.type === "any" || field.multiline) {
          control = (
            <TextArea
              {...common}
              rows={field.multiline ? 4 : 3}
              spellCheck={false}
              placeholder={placeholderFor(field)}
              className={cx(field.multiline && field.type === "string" && "font-sans")}
              value={textOf(field)}
              onChange={(e) => setText(field, e.target.value)}
            />
          );
        } else if (field.secret) {
          const shown = revealed[field.name];
          control = (
            <div className="flex gap-1.5">
              <Input
                {...common}
                type={shown ? "text" : "password"}
                autoComplete="new-password"
                placeholder={placeholderFor(field)}
                value={textOf(field)}
                onChange={(e) => setText(field, e.target.value)}
              />
              <button
                type="button"
                className="rounded-md border border-slate-300 px-2 text-slate-600 hover:bg-slate-50 dark:border-slate-700 dark:text-slate-300 dark:hover:bg-slate-800"
                aria-label={shown ? `Hide ${field.name}` : `Show ${field.name}`}
                aria-pressed={shown ? true : false}
                onClick={() => setRevealed((r) => ({ ...r, [field.name]: !shown }))}
              >
                {shown ? <EyeOff className="h-4 w-4" aria-hidden /> : <Eye className="h-4 w-4" aria-hidden />}
              </button>
            </div>
          );
        } else {
          const numeric = field.type === "integer" || field.type === "number";
          control = (
            <Input
              {...common}
              type={numeric ? "text" : inputType(field)}
              inputMode={numeric && !allowTemplates ? (field.type === "integer" ? "numeric" : "decimal") : undefined}
              placeholder={placeholderFor(field)}
              value={textOf(field)}
              onChange={(e) => setText(field, e.target.value)}
            />
          );
        }
        return (
          <Field
            key={field.name}
            label={field.name}
            htmlFor={id}
            required={field.required}
            hint={hint || undefined}
            error={error}
          >
            {control}
          </Field>
        );
      })}
    </div>
  );
}
