// The builder's action palette: every action (searchable); drag one onto the canvas, or press
// its "Add" button (keyboard) to place it below the last task.
import { GripVertical, Plus, Search } from "lucide-react";
import { useDeferredValue, useId, useMemo, useState } from "react";
import type { Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Input } from "@/components/ui";
import { ACTION_MIME } from "./BuilderCanvas";

type Action = Schemas["Action"];

export function Palette(props: {
  actions: Action[] | undefined;
  error: unknown;
  retry: () => void;
  onAdd: (ref: string) => void;
}) {
  const [query, setQuery] = useState("");
  const deferred = useDeferredValue(query.trim().toLowerCase());
  const searchId = useId();
  const shown = useMemo(
    () =>
      (props.actions ?? []).filter(
        (a) => !deferred || a.ref.toLowerCase().includes(deferred) || a.label.toLowerCase().includes(deferred) || (a.description ?? "").toLowerCase().includes(deferred),
      ),
    [props.actions, deferred],
  );
  return (
    <section aria-label="Action palette" className="flex min-h-0 flex-col gap-2">
      <label htmlFor={searchId} className="sr-only">
        Search actions
      </label>
      <div className="relative">
        <Search className="pointer-events-none absolute left-2 top-2 h-4 w-4 text-slate-400" aria-hidden />
        <Input id={searchId} type="search" placeholder="Search actions" value={query} onChange={(e) => setQuery(e.target.value)} className="pl-7" />
      </div>
      {props.error ? (
        <ErrorState error={props.error} retry={props.retry} />
      ) : !props.actions ? (
        <Loading label="Loading actions…" />
      ) : shown.length === 0 ? (
        <Empty title={query ? "No action matches." : "No actions yet."} />
      ) : (
        <ul className="min-h-0 flex-1 space-y-1 overflow-auto pr-1" aria-label="Actions">
          {shown.slice(0, 300).map((a) => (
            <li
              key={a.ref}
              draggable
              data-testid={`palette-${a.ref}`}
              onDragStart={(e) => {
                e.dataTransfer.setData(ACTION_MIME, a.ref);
                e.dataTransfer.effectAllowed = "copy";
              }}
              className="group flex cursor-grab items-center gap-1 rounded border border-slate-200 bg-white px-1.5 py-1 text-sm hover:border-indigo-400 dark:border-slate-700 dark:bg-slate-900"
              title={a.description ?? a.ref}
            >
              <GripVertical className="h-4 w-4 shrink-0 text-slate-400" aria-hidden />
              <span className="min-w-0 flex-1">
                <span className="block truncate font-medium">{a.ref}</span>
                {a.label && a.label !== a.ref && <span className="block truncate text-xs text-slate-500 dark:text-slate-400">{a.label}</span>}
              </span>
              <button
                type="button"
                onClick={() => props.onAdd(a.ref)}
                aria-label={`Add ${a.ref}`}
                className="rounded p-0.5 text-slate-500 hover:bg-slate-100 hover:text-indigo-600 dark:hover:bg-slate-800"
              >
                <Plus className="h-4 w-4" aria-hidden />
              </button>
            </li>
          ))}
          {shown.length > 300 && <li className="px-1 text-xs text-slate-500">{shown.length - 300} more: refine the search.</li>}
        </ul>
      )}
    </section>
  );
}
