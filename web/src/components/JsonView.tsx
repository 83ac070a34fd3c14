// JSON of any size without freezing the page: nodes render collapsed past the first levels
// and large arrays/objects show their first entries with a "show more" button, so only what
// the user opens is ever in the DOM. Long strings are clipped until expanded.
import { ChevronDown, ChevronRight, Copy } from "lucide-react";
import { useState } from "react";

const PAGE = 100;
const LONG_STRING = 2_000;

function Scalar({ value }: { value: unknown }) {
  const [full, setFull] = useState(false);
  if (value === null) return <span className="text-slate-500">null</span>;
  if (typeof value === "string") {
    const clipped = !full && value.length > LONG_STRING;
    return (
      <span className="whitespace-pre-wrap break-all text-green-700 dark:text-green-400">
        "{clipped ? value.slice(0, LONG_STRING) : value}"
        {clipped && (
          <button className="ml-1 text-xs text-indigo-600 underline" onClick={() => setFull(true)}>
            … {value.length - LONG_STRING} more characters
          </button>
        )}
      </span>
    );
  }
  if (typeof value === "number") return <span className="text-blue-700 dark:text-blue-400">{value}</span>;
  if (typeof value === "boolean") return <span className="text-purple-700 dark:text-purple-400">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Node({ name, value, depth, open: openByDefault }: { name?: string; value: unknown; depth: number; open: boolean }) {
  const [open, setOpen] = useState(openByDefault);
  const [shown, setShown] = useState(PAGE);
  const label = name !== undefined && <span className="text-slate-600 dark:text-slate-300">{name}: </span>;
  if (value === null || typeof value !== "object") {
    return (
      <div style={{ paddingLeft: depth * 14 }}>
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  return (
    <div>
      <button
        className="flex items-center text-left hover:bg-slate-100 dark:hover:bg-slate-800"
        style={{ paddingLeft: depth * 14 }}
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        {open ? <ChevronDown className="h-3 w-3" aria-hidden /> : <ChevronRight className="h-3 w-3" aria-hidden />}
        {label}
        <span className="text-slate-500">
          {brackets[0]}
          {!open && ` ${entries.length} ${Array.isArray(value) ? "items" : "keys"} ${brackets[1]}`}
        </span>
      </button>
      {open && (
        <>
          {entries.slice(0, shown).map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} open={depth < 1 && entries.length < 50} />
          ))}
          {entries.length > shown && (
            <button
              className="text-xs text-indigo-600 underline"
              style={{ paddingLeft: (depth + 1) * 14 }}
              onClick={() => setShown(shown + PAGE * 10)}
            >
              show {Math.min(PAGE * 10, entries.length - shown)} more of {entries.length - shown}
            </button>
          )}
          <div className="text-slate-500" style={{ paddingLeft: depth * 14 }}>
            {brackets[1]}
          </div>
        </>
      )}
    </div>
  );
}

export function JsonView({ value, label = "JSON" }: { value: unknown; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="relative rounded-md bg-slate-50 p-3 font-mono text-xs dark:bg-slate-950" aria-label={label}>
      <button
        className="absolute right-2 top-2 rounded p-1 text-slate-500 hover:bg-slate-200 dark:hover:bg-slate-800"
        title="Copy JSON"
        aria-label={`Copy ${label}`}
        onClick={() => {
          void navigator.clipboard?.writeText(JSON.stringify(value, null, 2));
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        }}
      >
        {copied ? "copied" : <Copy className="h-3.5 w-3.5" aria-hidden />}
      </button>
      <Node value={value} depth={0} open />
    </div>
  );
}
