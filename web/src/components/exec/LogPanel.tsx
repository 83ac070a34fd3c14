// stdout/stderr of an execution. While it runs the log follows the server's SSE stream
// (/logs/{stream}/stream): "chunk" events append what the action printed (the worker sends it
// at most five times a second, masked), then the whole log arrives and the stream ends. If the
// stream cannot be opened (an expired token, a proxy that buffers), the log is re-read every
// 1.5 s instead. The view follows the end unless the user scrolls up.
//
// The log's query key is not under ["executions", ...]: the live socket invalidates every
// "executions" query on each notification about any execution, and a busy system would have
// the panel re-read the whole log on each of them while the SSE stream already follows it.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { Schemas } from "@/api/client";
import { getJson } from "@/api/lists";
import { ErrorState, Loading } from "@/components/states";
import { cx } from "@/components/ui";
import { useAuth } from "@/lib/auth";
import { appendChunk } from "./logText";

type Stream = "stdout" | "stderr";
type Log = { data: Schemas["ExecutionLog"] };

/** The text streamed so far for `key` (id:stream), while the SSE stream is open. */
interface Live {
  key: string;
  content: string;
}

/** The cached log of one stream; `execution_log` notifications refresh nothing (src/lib/live.ts). */
export function logQueryKey(id: number, stream: Stream) {
  return ["execution_logs", id, stream];
}

function useLiveLog(id: number, stream: Stream, running: boolean) {
  const client = useQueryClient();
  const queryKey = logQueryKey(id, stream);
  const key = `${id}:${stream}`;
  const [live, setLive] = useState<Live | null>(null);
  const [polling, setPolling] = useState(false);
  const log = useQuery({
    queryKey,
    queryFn: () => getJson<Log>(`/api/v1/executions/${id}/logs/${stream}`),
    refetchInterval: running && polling ? 1500 : false,
    staleTime: running ? 0 : 10_000,
  });
  useEffect(() => {
    setPolling(false);
    if (!running) return;
    const token = useAuth.getState().accessToken;
    if (!token || typeof EventSource === "undefined") {
      setPolling(true);
      return;
    }
    const url = `/api/v1/executions/${id}/logs/${stream}/stream?token=${encodeURIComponent(token)}`;
    const source = new EventSource(url);
    let text = "";
    source.addEventListener("chunk", (event) => {
      const chunk = JSON.parse((event as MessageEvent).data) as { offset: number; content: string };
      text = appendChunk(text, chunk.offset, chunk.content);
      setLive({ key, content: text });
    });
    source.onmessage = (event) => {
      // the whole log, once the execution ended
      const final = JSON.parse(event.data) as { content: string; truncated: boolean };
      client.setQueryData<Log>(queryKey, {
        data: { execution_id: id, stream, content: final.content, truncated: final.truncated, complete: true },
      });
      setLive({ key, content: final.content });
    };
    source.addEventListener("end", () => source.close());
    source.onerror = () => {
      // closed for good (401, 404): poll instead; otherwise the browser reconnects by itself
      if (source.readyState === EventSource.CLOSED) setPolling(true);
    };
    return () => source.close();
    // queryKey is derived from id and stream
  }, [id, stream, running, key, client]);
  // when the run ends, read the log once more unless the stream already gave the whole log
  const wasRunning = useRef(running);
  const { refetch } = log;
  useEffect(() => {
    if (wasRunning.current && !running && !log.data?.data.complete) void refetch();
    wasRunning.current = running;
  }, [running, refetch, log.data]);
  const stored = log.data?.data;
  const content = stored?.complete || live?.key !== key ? (stored?.content ?? "") : live.content;
  return { log, content, truncated: Boolean(stored?.complete && stored.truncated) };
}

export function LogPanel({ id, running }: { id: number; running: boolean }) {
  const [stream, setStream] = useState<Stream>("stdout");
  const { log, content, truncated } = useLiveLog(id, stream, running);
  const box = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
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
            onClick={() => {
              follow.current = true;
              setStream(s);
            }}
          >
            {s}
          </button>
        ))}
        {running && <span className="ml-2 self-center text-xs text-blue-600 dark:text-blue-400">following…</span>}
      </div>
      {log.isPending && !content ? (
        <Loading label="Loading log…" />
      ) : log.error && !content ? (
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
            {content || <span className="text-slate-400">{running ? "(nothing written yet)" : `(no ${stream})`}</span>}
          </pre>
          {truncated && (
            <p className="mt-1 text-xs text-amber-700 dark:text-amber-400">The log was truncated by the worker.</p>
          )}
        </>
      )}
    </div>
  );
}
