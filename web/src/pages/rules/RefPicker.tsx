// A searchable picker of an entity by ref: a text input whose suggestions (a native datalist,
// so typing filters them and the keyboard works everywhere) are the known refs with their
// descriptions. The chosen entity's description is shown under it.
import { useId } from "react";
import { Field, Input } from "@/components/ui";

export interface Pickable {
  ref: string;
  label?: string | null;
  description?: string | null;
}

export function RefPicker<T extends Pickable>(props: {
  label: string;
  items: T[];
  value: string;
  onChange: (ref: string) => void;
  loading?: boolean;
  required?: boolean;
  error?: string | null;
}) {
  const id = useId();
  const chosen = props.items.find((i) => i.ref === props.value);
  const hint = props.loading
    ? "Loading…"
    : chosen
      ? chosen.description || chosen.label
      : props.value
        ? `No ${props.label.toLowerCase()} is called ${props.value}.`
        : `Type to search ${props.items.length} ${props.label.toLowerCase()}s.`;
  return (
    <Field label={props.label} htmlFor={id} required={props.required} hint={hint} error={props.error}>
      <Input
        id={id}
        list={`${id}-options`}
        autoComplete="off"
        spellCheck={false}
        placeholder="pack.name"
        value={props.value}
        required={props.required}
        aria-invalid={props.value && !chosen && !props.loading ? true : undefined}
        onChange={(e) => props.onChange(e.target.value.trim())}
      />
      <datalist id={`${id}-options`}>
        {props.items.map((item) => (
          <option key={item.ref} value={item.ref}>
            {item.description || item.label || ""}
          </option>
        ))}
      </datalist>
    </Field>
  );
}
