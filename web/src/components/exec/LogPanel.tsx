// stdout/stderr of an execution. While it runs the log is re-read every 1.5 s (and on every
// live notification about it), so the text grows as the action writes; the view follows the
// end unless the user scrolls up.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { Schemas } from "@/api/client";
import { getJson } from "@/api/lists";
import { ErrorState, Loading } from "@/components/states";
import { cx } from "@/components/ui";

type Stream = "stdout" | "stderr";

export function LogPanel({ id, running }: { id: number; running: boolean }) {
  const [stream, setStream] = useState<Stream>("stdout");
  const log = useQuery({
    queryKey: ["executions", id, "logs", stream],
    queryFn: () => getJson<{ data: Schemas["ExecutionLog"] }>(`/api/v1/executions/${id}/logs/${stream}`),
    refetchInterval: running ? 1500 : false,
    staleTime: running ? 0 : 10_000,
  });
  // when the run ends, read the log once more: the final output may land after the last poll
  const wasRunning = useRef(running);
  const { refetch } = log;
  useEffect(() => {
    if (wasRunning.current && !running) void refetch();
    wasRunning.current = running;
  }, [running, refetch]);
  const box = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
  const content = log.data?.data.content ?? "";
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [content]);
  return (
    <div>
      <div role="tablist" aria-label="Log stream" className="mb-2 flex gap-1">
        {(["stdout", "stderr"] as const).map((s) => (
          <button
            key={s}
            role="tab"
            aria-selected={stream === s}
            className={cx(
              "rounded px-2.5 py-1 text-xs font-medium",
              stream === s
                ? "bg-indigo-600 text-white"
                : "text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800",
            )}
            onClick={() => setStream(s)}
          >
            {s}
          </button>
        ))}
        {running && <span className="ml-2 self-center text-xs text-blue-600 dark:text-blue-400">following…</span>}
      </div>
      {log.isPending ? (
        <Loading label="Loading log…" />
      ) : log.error ? (
        <ErrorState error={log.error} retry={() => log.refetch()} />
      ) : (
        <>
          <pre
            ref={box}
            aria-label={`${stream} log`}
            tabIndex={0}
            onScroll={(e) => {
              const el = e.currentTarget;
              follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 20;
            }}
            className="max-h-96 min-h-16 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-950 p-3 font-mono text-xs text-slate-100"
          >
            {content || <span className="text-slate-500">{running ? "(nothing written yet)" : `(no ${stream})`}</span>}
          </pre>
          {log.data?.data.truncated && (
            <p className="mt-1 text-xs text-amber-700 dark:text-amber-400">The log was truncated by the worker.</p>
          )}
        </>
      )}
    </div>
  );
}
