// Assignments: who holds which permission set; filter by identity or set, assign, remove.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Trash2 } from "lucide-react";
import { type FormEvent, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "@/api/client";
import { ConfirmDialog, errorText } from "@/components/Confirm";
import { type Column, DataTable } from "@/components/DataTable";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge, Button, Field, Select } from "@/components/ui";
import { relativeTime } from "@/lib/format";
import { ACCESS_KEYS, type Assignment, useAssignments, useIdentities, usePermissionSets } from "./data";

export function Assignments() {
  const [params, setParams] = useSearchParams();
  const identity = params.get("identity") ?? "";
  const permset = params.get("permset") ?? "";
  const list = useAssignments({ identity, permset });
  const identities = useIdentities();
  const sets = usePermissionSets();
  const client = useQueryClient();
  const [newIdentity, setNewIdentity] = useState("");
  const [newSet, setNewSet] = useState("");
  const [removing, setRemoving] = useState<Assignment | null>(null);
  const logins = useMemo(() => new Map(identities.rows.map((i) => [i.id, i.login])), [identities.rows]);
  const refs = useMemo(() => new Map(sets.rows.map((s) => [s.id, s.ref])), [sets.rows]);
  const invalidate = () => Promise.all(ACCESS_KEYS.map((k) => client.invalidateQueries({ queryKey: [...k] })));
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/permissions/assignments", { body: { identity: Number(newIdentity), permset: Number(newSet) } })),
    onSuccess: async () => {
      setNewSet("");
      await invalidate();
    },
  });
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const columns: Column<Assignment>[] = [
    { key: "identity", header: "Identity", width: "minmax(12rem, 2fr)", cell: (a) => <Link className="truncate text-indigo-600 underline" to={`/access/identities?identity=${a.identity}`}>{logins.get(a.identity) ?? `#${a.identity}`}</Link> },
    { key: "set", header: "Permission set", width: "minmax(10rem, 2fr)", cell: (a) => <Link to={`/access/permission-sets?set=${encodeURIComponent(refs.get(a.permset) ?? "")}`}><Badge tone="blue">{refs.get(a.permset) ?? `#${a.permset}`}</Badge></Link> },
    { key: "created", header: "Since", width: "9rem", cell: (a) => <span title={a.created}>{relativeTime(a.created)}</span> },
    {
      key: "actions",
      header: <span className="sr-only">Actions</span>,
      width: "6rem",
      cell: (a) => (
        <Button size="sm" variant="ghost" aria-label={`Remove ${refs.get(a.permset) ?? a.permset} from ${logins.get(a.identity) ?? a.identity}`} onClick={() => setRemoving(a)}>
          <Trash2 className="h-3.5 w-3.5 text-red-600" aria-hidden />
        </Button>
      ),
    },
  ];

  return (
    <div className="space-y-4">
      <form
        className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 p-3 dark:border-slate-800"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          if (newIdentity && newSet) create.mutate();
        }}
      >
        <div className="w-64">
          <Field label="Identity to assign" htmlFor="new-assignment-identity">
            <Select id="new-assignment-identity" value={newIdentity} onChange={(e) => setNewIdentity(e.target.value)}>
              <option value="">choose…</option>
              {identities.rows.map((i) => <option key={i.id} value={i.id}>{i.login}</option>)}
            </Select>
          </Field>
        </div>
        <div className="w-64">
          <Field label="Permission set to assign" htmlFor="new-assignment-set">
            <Select id="new-assignment-set" value={newSet} onChange={(e) => setNewSet(e.target.value)}>
              <option value="">choose…</option>
              {sets.rows.map((s) => <option key={s.id} value={s.id}>{s.ref}</option>)}
            </Select>
          </Field>
        </div>
        <Button type="submit" variant="primary" disabled={!newIdentity || !newSet || create.isPending}>Assign</Button>
        {create.error && <p role="alert" className="w-full text-sm text-red-600">{errorText(create.error)}</p>}
      </form>
      <div className="flex flex-wrap items-end gap-3">
        <div className="w-64">
          <Field label="Filter by identity" htmlFor="filter-identity">
            <Select id="filter-identity" value={identity} onChange={(e) => setFilter("identity", e.target.value)}>
              <option value="">every identity</option>
              {identities.rows.map((i) => <option key={i.id} value={i.id}>{i.login}</option>)}
            </Select>
          </Field>
        </div>
        <div className="w-64">
          <Field label="Filter by permission set" htmlFor="filter-permset">
            <Select id="filter-permset" value={permset} onChange={(e) => setFilter("permset", e.target.value)}>
              <option value="">every set</option>
              {sets.rows.map((s) => <option key={s.id} value={s.id}>{s.ref}</option>)}
            </Select>
          </Field>
        </div>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Assignments"
          rows={list.rows}
          columns={columns}
          rowKey={(a) => a.id}
          onEndReached={list.hasNextPage ? () => void list.fetchNextPage() : undefined}
          empty={<Empty title={identity || permset ? "No assignment matches these filters." : "No assignments."} />}
        />
      )}
      <ConfirmDialog
        open={removing !== null}
        title="Remove assignment"
        confirmLabel="Remove"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          await unwrap(api.DELETE("/api/v1/permissions/assignments/{id}", { params: { path: { id: removing!.id } } }));
          await invalidate();
        }}
      >
        Take <strong>{removing && refs.get(removing.permset)}</strong> away from <strong>{removing && logins.get(removing.identity)}</strong>?
      </ConfirmDialog>
    </div>
  );
}
