// A row of list filters bound to the query string: text fields apply on Enter / Apply (so each
// search is one history entry), selects apply at once, and "Clear" removes them all.
import { useEffect, useState } from "react";
import { Button, Input, Select } from "@/components/ui";
import { useUrlFilters } from "./filters";

export interface FilterField<K extends string> {
  key: K;
  label: string;
  placeholder?: string;
  /** Choices for a select ("" is "any"). */
  options?: { value: string; label: string }[];
  numeric?: boolean;
}

export function FilterBar<K extends string>(props: {
  label: string;
  fields: FilterField<K>[];
  state: ReturnType<typeof useUrlFilters<K>>;
}) {
  const { filters, setFilters, clear, active } = props.state;
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [filters]);
  const texts = props.fields.filter((f) => !f.options);
  return (
    <form
      aria-label={props.label}
      className="mb-3 flex flex-wrap items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        setFilters(Object.fromEntries(texts.map((f) => [f.key, draft[f.key]])) as Partial<Record<K, string>>);
      }}
    >
      {props.fields.map((f) => (
        <div key={f.key} className="w-48">
          <label htmlFor={`f-${f.key}`} className="mb-0.5 block text-xs font-medium text-slate-600 dark:text-slate-300">
            {f.label}
          </label>
          {f.options ? (
            <Select id={`f-${f.key}`} value={filters[f.key]} onChange={(e) => setFilters({ [f.key]: e.target.value } as Partial<Record<K, string>>)}>
              {f.options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </Select>
          ) : (
            <Input
              id={`f-${f.key}`}
              value={draft[f.key]}
              placeholder={f.placeholder}
              inputMode={f.numeric ? "numeric" : undefined}
              onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
            />
          )}
        </div>
      ))}
      <Button type="submit" variant="primary" size="sm" className="mb-0.5">
        Apply filters
      </Button>
      {active > 0 && (
        <Button size="sm" variant="ghost" className="mb-0.5" onClick={clear}>
          Clear filters ({active})
        </Button>
      )}
    </form>
  );
}
