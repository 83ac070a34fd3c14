// Edit a permission set's grants as rows: resource, operations (checkboxes), optional pack.
import { Plus, Trash2 } from "lucide-react";
import { Button, Input, Select } from "@/components/ui";
import { type Grant, OPERATIONS, RESOURCES, toggleOperation } from "./grants";

export function GrantsEditor({ grants, onChange }: { grants: Grant[]; onChange: (grants: Grant[]) => void }) {
  const update = (index: number, patch: Partial<Grant>) => onChange(grants.map((g, i) => (i === index ? { ...g, ...patch } : g)));
  return (
    <fieldset className="space-y-2">
      <legend className="mb-1 text-sm font-medium">Grants</legend>
      {grants.length === 0 && <p className="text-sm text-slate-500">No grants: this set allows nothing.</p>}
      {grants.map((grant, index) => (
        <div key={index} className="space-y-2 rounded-md border border-slate-200 p-2 dark:border-slate-700" role="group" aria-label={`Grant ${index + 1}`}>
          <div className="flex items-center gap-2">
            <label className="sr-only" htmlFor={`grant-${index}-resource`}>Resource of grant {index + 1}</label>
            <Select id={`grant-${index}-resource`} className="w-44" value={grant.resource} onChange={(e) => update(index, { resource: e.target.value })}>
              <option value="" disabled>resource…</option>
              {RESOURCES.map((r) => (
                <option key={r} value={r}>{r === "*" ? "* (every resource)" : r}</option>
              ))}
            </Select>
            <label className="sr-only" htmlFor={`grant-${index}-pack`}>Pack of grant {index + 1}</label>
            <Input id={`grant-${index}-pack`} className="w-40" placeholder="any pack" value={grant.pack ?? ""} onChange={(e) => update(index, { pack: e.target.value || null })} />
            <Button size="sm" variant="ghost" className="ml-auto" aria-label={`Remove grant ${index + 1}`} onClick={() => onChange(grants.filter((_, i) => i !== index))}>
              <Trash2 className="h-3.5 w-3.5 text-red-600" aria-hidden />
            </Button>
          </div>
          <div className="flex flex-wrap gap-3 text-sm">
            {OPERATIONS.map((op) => (
              <label key={op} className="flex items-center gap-1">
                <input
                  type="checkbox"
                  checked={grant.operations.includes(op)}
                  onChange={(e) => update(index, { operations: toggleOperation(grant.operations, op, e.target.checked) })}
                />
                {op === "*" ? "all" : op}
              </label>
            ))}
          </div>
        </div>
      ))}
      <Button size="sm" onClick={() => onChange([...grants, { resource: "", operations: ["read"], pack: null }])}>
        <Plus className="h-3.5 w-3.5" aria-hidden /> Add grant
      </Button>
    </fieldset>
  );
}
