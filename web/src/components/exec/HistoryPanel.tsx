// Status history of an execution: every recorded change (field-level) with its time.
import type { Schemas } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Button, StatusBadge } from "@/components/ui";
import { dateTime } from "@/lib/format";

export function HistoryPanel({ id }: { id: number }) {
  const list = useInfiniteList<Schemas["HistoryRecord"]>(["executions", id, "history"], `/api/v1/executions/${id}/history`);
  if (list.isPending) return <Loading label="Loading history…" />;
  if (list.error) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  if (!list.rows.length) return <Empty title="No recorded changes" />;
  const rows = [...list.rows].sort((a, b) => a.time.localeCompare(b.time) || a.id - b.id);
  return (
    <>
      <ol aria-label="Status history" className="space-y-1.5 text-sm">
        {rows.map((h) => {
          const status = h.new_values?.status;
          const fields = h.changed_fields.filter((f) => f !== "updated");
          return (
            <li key={h.id} className="flex flex-wrap items-center gap-2">
              <time dateTime={h.time} className="w-44 shrink-0 font-mono text-xs text-slate-500">
                {dateTime(h.time)}
              </time>
              <span className="text-xs uppercase text-slate-500">{h.operation}</span>
              {typeof status === "string" && (
                <>
                  {typeof h.old_values?.status === "string" && (
                    <>
                      <StatusBadge status={h.old_values.status} />
                      <span aria-hidden>→</span>
                    </>
                  )}
                  <StatusBadge status={status} />
                </>
              )}
              {fields.length > 0 && <span className="text-xs text-slate-500">{fields.join(", ")}</span>}
            </li>
          );
        })}
      </ol>
      {list.hasNextPage && (
        <Button size="sm" className="mt-2" onClick={() => void list.fetchNextPage()}>
          Load older changes
        </Button>
      )}
    </>
  );
}
