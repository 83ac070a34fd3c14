// Runtimes: the interpreters and environments actions run in, with the versions found on
// the workers' hosts.
import { useMemo } from "react";
import { useSearchParams } from "react-router";
import type { Schemas } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { type Column, DataTable } from "@/components/DataTable";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge, Field, Input, PageHeader } from "@/components/ui";
import { availabilitySummary, sortVersions } from "./versions";

type Runtime = Schemas["Runtime"];

export default function RuntimeList() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const list = useInfiniteList<Runtime>(["runtimes"], "/api/v1/runtimes");
  const rows = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return needle
      ? list.rows.filter((r) => [r.ref, r.name, r.description ?? ""].some((s) => s.toLowerCase().includes(needle)))
      : list.rows;
  }, [list.rows, q]);

  const columns: Column<Runtime>[] = [
    { key: "ref", header: "Ref", width: "minmax(10rem, 1fr)", cell: (r) => <span className="font-mono text-xs text-indigo-700 dark:text-indigo-300">{r.ref}</span> },
    { key: "name", header: "Name", width: "minmax(8rem, 1fr)", cell: (r) => r.name },
    { key: "description", header: "Description", width: "minmax(12rem, 3fr)", cell: (r) => <span className="truncate text-slate-600 dark:text-slate-400" title={r.description ?? ""}>{r.description ?? "—"}</span> },
    {
      key: "versions",
      header: "Versions",
      width: "minmax(12rem, 1.5fr)",
      cell: (r) => (
        <span className="flex min-w-0 items-center gap-1 overflow-hidden" title={availabilitySummary(r.versions)}>
          {r.versions.length === 0 ? (
            <span className="text-slate-500">—</span>
          ) : (
            sortVersions(r.versions).map((v) => (
              <Badge key={v.id} tone={v.available ? "green" : "slate"}>
                {v.version}
                {v.is_default ? " ★" : ""}
              </Badge>
            ))
          )}
        </span>
      ),
    },
  ];

  return (
    <div>
      <PageHeader title="Runtimes" subtitle="Interpreters and environments actions run in; green versions were found on this host." />
      <div className="mb-3 w-72">
        <Field label="Search" htmlFor="runtime-search">
          <Input
            id="runtime-search"
            type="search"
            placeholder="ref, name or description"
            value={q}
            onChange={(e) => setParams(e.target.value ? { q: e.target.value } : {}, { replace: true })}
          />
        </Field>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Runtimes"
          rows={rows}
          columns={columns}
          rowKey={(r) => r.id}
          rowHref={(r) => `/runtimes/${encodeURIComponent(r.ref)}`}
          onEndReached={list.hasNextPage ? () => void list.fetchNextPage() : undefined}
          empty={<Empty title={q ? "No runtime matches this search." : "No runtimes registered."}>{!q && <p>Runtimes come with packs (the core pack registers the built-in ones).</p>}</Empty>}
        />
      )}
    </div>
  );
}
