// A virtualised table: only the visible rows are in the DOM, so 1,000s of rows scroll smoothly.
// Rows link to their detail page (a real <a>, so middle-click, copy link and keyboard work).
import { useVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useEffect, useRef } from "react";
import { Link } from "react-router";
import { cx } from "./ui";

export interface Column<T> {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** CSS grid track, e.g. "6rem" or "minmax(12rem, 2fr)"; default "minmax(0, 1fr)". */
  width?: string;
}

const ROW_HEIGHT = 40;

export function DataTable<T>(props: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  rowHref?: (row: T) => string;
  label: string;
  empty?: ReactNode;
  /** Height of the scroll area; the header stays visible. */
  maxHeight?: string;
  /** Called when the last rows come into view (load the next page). */
  onEndReached?: () => void;
}) {
  const { rows, columns } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const last = items.at(-1)?.index ?? -1;
  const { onEndReached } = props;
  useEffect(() => {
    if (onEndReached && rows.length > 0 && last >= rows.length - 5) onEndReached();
  }, [last, rows.length, onEndReached]);

  const template = columns.map((c) => c.width ?? "minmax(0, 1fr)").join(" ");
  if (rows.length === 0 && props.empty) return <>{props.empty}</>;
  return (
    <div
      role="table"
      aria-label={props.label}
      aria-rowcount={rows.length + 1}
      className="overflow-hidden rounded-lg border border-slate-200 bg-white text-sm dark:border-slate-800 dark:bg-slate-900"
    >
      <div
        role="row"
        className="grid border-b border-slate-200 bg-slate-50 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:border-slate-800 dark:bg-slate-900/60 dark:text-slate-400"
        style={{ gridTemplateColumns: template }}
      >
        {columns.map((c) => (
          <div role="columnheader" key={c.key} className="truncate px-3 py-2">
            {c.header}
          </div>
        ))}
      </div>
      <div ref={scroller} className="overflow-auto" style={{ maxHeight: props.maxHeight ?? "calc(100vh - 16rem)" }}>
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {items.map((item) => {
            const row = rows[item.index];
            const href = props.rowHref?.(row);
            const cells = columns.map((c) => (
              <div role="cell" key={c.key} className="flex min-w-0 items-center truncate px-3">
                {c.cell(row)}
              </div>
            ));
            const className = cx(
              "absolute left-0 grid w-full border-b border-slate-100 dark:border-slate-800/60",
              href && "hover:bg-slate-50 focus:bg-slate-50 dark:hover:bg-slate-800/50 dark:focus:bg-slate-800/50",
            );
            const style = {
              gridTemplateColumns: template,
              height: ROW_HEIGHT,
              transform: `translateY(${item.start}px)`,
            };
            return href ? (
              <Link
                role="row"
                aria-rowindex={item.index + 2}
                key={props.rowKey(row)}
                to={href}
                className={className}
                style={style}
              >
                {cells}
              </Link>
            ) : (
              <div role="row" aria-rowindex={item.index + 2} key={props.rowKey(row)} className={className} style={style}>
                {cells}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
