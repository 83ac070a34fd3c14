// Artifacts: files and data executions (or people) keep, with their versions. Filters (type,
// scope, owner, ref, execution) are in the query string and applied by the API.
import { Plus } from "lucide-react";
import { type FormEvent, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { errorText } from "@/components/Confirm";
import { type Column, DataTable } from "@/components/DataTable";
import { Modal } from "@/components/Modal";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge, Button, Field, Input, PageHeader, Select, TextArea } from "@/components/ui";
import { relativeTime } from "@/lib/format";
import { useDebouncedParam } from "@/lib/useDebouncedParam";
import { byteSize, uploadVersion } from "./files";

type Artifact = Schemas["Artifact"];
const TYPES: Artifact["type"][] = ["file_binary", "file_datatable", "file_image", "file_text", "other", "progress", "url"];
const SCOPES: Artifact["scope"][] = ["system", "identity", "pack", "action", "sensor"];
const FILTERS = ["type", "scope", "owner", "ref", "execution"] as const;

function NewArtifact({ onClose }: { onClose: () => void }) {
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const file = form.get("file");
    setBusy(true);
    setError(null);
    try {
      const { data } = await unwrap(
        api.POST("/api/v1/artifacts", {
          body: {
            ref: String(form.get("ref")),
            name: String(form.get("name") || "") || null,
            description: String(form.get("description") || "") || null,
            type: form.get("type") as Artifact["type"],
            scope: form.get("scope") as Artifact["scope"],
            owner: String(form.get("owner") || "") || null,
          },
        }),
      );
      if (file instanceof File && file.size > 0) await uploadVersion(data.id, file);
      navigate(`/artifacts/${data.id}`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal open title="New artifact" onClose={onClose}>
      <form className="space-y-3" onSubmit={submit}>
        <Field label="Ref" htmlFor="artifact-ref" required hint="e.g. mypack.nightly_report">
          <Input id="artifact-ref" name="ref" required autoFocus />
        </Field>
        <Field label="Name" htmlFor="artifact-name">
          <Input id="artifact-name" name="name" />
        </Field>
        <div className="grid grid-cols-3 gap-3">
          <Field label="Type" htmlFor="artifact-type">
            <Select id="artifact-type" name="type" defaultValue="file_binary">
              {TYPES.map((t) => <option key={t}>{t}</option>)}
            </Select>
          </Field>
          <Field label="Scope" htmlFor="artifact-scope">
            <Select id="artifact-scope" name="scope" defaultValue="system">
              {SCOPES.map((s) => <option key={s}>{s}</option>)}
            </Select>
          </Field>
          <Field label="Owner" htmlFor="artifact-owner">
            <Input id="artifact-owner" name="owner" />
          </Field>
        </div>
        <Field label="Description" htmlFor="artifact-description">
          <TextArea id="artifact-description" name="description" rows={2} className="font-sans" />
        </Field>
        <Field label="First version (optional)" htmlFor="artifact-file">
          <input id="artifact-file" name="file" type="file" className="text-sm" />
        </Field>
        {error && <p role="alert" className="text-sm text-red-600">{error}</p>}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={busy}>{busy ? "Creating…" : "Create artifact"}</Button>
        </div>
      </form>
    </Modal>
  );
}

export default function ArtifactList() {
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(false);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ""])) as Record<(typeof FILTERS)[number], string>;
  const list = useInfiniteList<Artifact>(["artifacts"], "/api/v1/artifacts", filters);
  const filtered = FILTERS.some((f) => filters[f]);
  const [ownerText, setOwnerText] = useDebouncedParam("owner");
  const [refText, setRefText] = useDebouncedParam("ref");
  const [executionText, setExecutionText] = useDebouncedParam("execution");
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const columns: Column<Artifact>[] = [
    {
      key: "ref",
      header: "Artifact",
      width: "minmax(14rem, 2fr)",
      cell: (a) => (
        <span className="min-w-0 truncate" title={a.description ?? a.ref}>
          <span className="font-mono text-xs text-indigo-700 dark:text-indigo-300">{a.ref}</span>
          {a.name && <span className="ml-2 text-slate-500">{a.name}</span>}
        </span>
      ),
    },
    { key: "type", header: "Type", width: "8rem", cell: (a) => <Badge>{a.type}</Badge> },
    { key: "owner", header: "Scope / owner", width: "minmax(8rem, 1fr)", cell: (a) => <span className="truncate">{a.scope}{a.owner ? ` ${a.owner}` : ""}</span> },
    { key: "size", header: "Size", width: "6rem", cell: (a) => byteSize(a.size_bytes) },
    { key: "execution", header: "Execution", width: "6rem", cell: (a) => (a.execution ? <span className="font-mono">#{a.execution}</span> : "—") },
    { key: "updated", header: "Updated", width: "8rem", cell: (a) => <span title={a.updated}>{relativeTime(a.updated)}</span> },
  ];

  return (
    <div>
      <PageHeader
        title="Artifacts"
        subtitle="Files and data kept by executions and people, with every version."
        actions={<Button variant="primary" onClick={() => setCreating(true)}><Plus className="h-4 w-4" aria-hidden /> New artifact</Button>}
      />
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <div className="w-40">
          <Field label="Type" htmlFor="filter-type">
            <Select id="filter-type" value={filters.type} onChange={(e) => setFilter("type", e.target.value)}>
              <option value="">any</option>
              {TYPES.map((t) => <option key={t}>{t}</option>)}
            </Select>
          </Field>
        </div>
        <div className="w-32">
          <Field label="Scope" htmlFor="filter-scope">
            <Select id="filter-scope" value={filters.scope} onChange={(e) => setFilter("scope", e.target.value)}>
              <option value="">any</option>
              {SCOPES.map((s) => <option key={s}>{s}</option>)}
            </Select>
          </Field>
        </div>
        <div className="w-40">
          <Field label="Owner" htmlFor="filter-owner">
            <Input id="filter-owner" value={ownerText} onChange={(e) => setOwnerText(e.target.value)} />
          </Field>
        </div>
        <div className="w-52">
          <Field label="Ref" htmlFor="filter-ref">
            <Input id="filter-ref" placeholder="exact ref" value={refText} onChange={(e) => setRefText(e.target.value.trim())} />
          </Field>
        </div>
        <div className="w-28">
          <Field label="Execution" htmlFor="filter-execution">
            <Input id="filter-execution" inputMode="numeric" placeholder="id" value={executionText} onChange={(e) => setExecutionText(e.target.value.replace(/\D/g, ""))} />
          </Field>
        </div>
        {filtered && <Button variant="ghost" onClick={() => setParams({}, { replace: true })}>Clear filters</Button>}
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Artifacts"
          rows={list.rows}
          columns={columns}
          rowKey={(a) => a.id}
          rowHref={(a) => `/artifacts/${a.id}`}
          onEndReached={list.hasNextPage ? () => void list.fetchNextPage() : undefined}
          empty={
            <Empty title={filtered ? "No artifact matches these filters." : "No artifacts yet."}>
              {!filtered && <p>Actions create them through the API; see <Link className="underline" to="/executions">executions</Link>.</p>}
            </Empty>
          }
        />
      )}
      {creating && <NewArtifact onClose={() => setCreating(false)} />}
    </div>
  );
}
