// A read-only table of a parameter schema's fields: name (required, secret), type, default, description.
import { parseSchema } from "./schemaFields";
import { Badge } from "./ui";

export function ParameterTable({ schema }: { schema: unknown }) {
  const fields = parseSchema(schema);
  if (fields.length === 0) return <p className="text-sm text-slate-500 dark:text-slate-400">No parameters.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="text-xs uppercase tracking-wide text-slate-500 dark:text-slate-400">
          <tr>
            <th className="py-1 pr-3 font-semibold">Name</th>
            <th className="py-1 pr-3 font-semibold">Type</th>
            <th className="py-1 pr-3 font-semibold">Default</th>
            <th className="py-1 font-semibold">Description</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((f) => (
            <tr key={f.name} className="border-t border-slate-100 align-top dark:border-slate-800">
              <td className="py-1.5 pr-3 font-mono text-xs">
                {f.name}
                {f.required && <span className="ml-1 text-red-600" title="required">*</span>}
                {f.secret && (
                  <span className="ml-1">
                    <Badge tone="amber">secret</Badge>
                  </span>
                )}
              </td>
              <td className="py-1.5 pr-3 text-xs">
                {f.type}
                {f.enum && <div className="text-slate-500">one of {f.enum.map(String).join(", ")}</div>}
              </td>
              <td className="py-1.5 pr-3 font-mono text-xs">{f.hasDefault ? JSON.stringify(f.default) : "—"}</td>
              <td className="py-1.5 text-slate-600 dark:text-slate-400">{f.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
