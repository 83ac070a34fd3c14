// Permission sets (roles): their grants, who holds them, create and edit. ?set=<ref> selects one.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Pencil, Plus } from "lucide-react";
import { type FormEvent, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "@/api/client";
import { errorText } from "@/components/Confirm";
import { Modal } from "@/components/Modal";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge, Button, Card, cx, Field, Input, TextArea } from "@/components/ui";
import { type PermissionSet, useAssignments, useIdentities, usePermissionSets } from "./data";
import { GrantsEditor } from "./GrantsEditor";
import { fromGrants, type Grant, grantProblems, grantText, toGrants } from "./grants";

function SetEditor({ set, onClose, onSaved }: { set?: PermissionSet; onClose: () => void; onSaved: (ref: string) => void }) {
  const client = useQueryClient();
  const [ref, setRef] = useState(set?.ref ?? "");
  const [label, setLabel] = useState(set?.label ?? "");
  const [description, setDescription] = useState(set?.description ?? "");
  const [grants, setGrants] = useState<Grant[]>(set ? toGrants(set.grants) : [{ resource: "", operations: ["read"], pack: null }]);
  const [problems, setProblems] = useState<string[]>([]);
  const save = useMutation({
    mutationFn: () => {
      const body = { label: label.trim() || null, description: description.trim() || null, grants: fromGrants(grants) };
      return set
        ? unwrap(api.PUT("/api/v1/permissions/sets/{id}", { params: { path: { id: set.id } }, body }))
        : unwrap(api.POST("/api/v1/permissions/sets", { body: { ref: ref.trim(), ...body } }));
    },
    onSuccess: async ({ data }) => {
      await client.invalidateQueries({ queryKey: ["permissions"] });
      await client.invalidateQueries({ queryKey: ["identities"] });
      onSaved(data.ref);
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    const found = grantProblems(grants);
    if (!set && !/^[a-z][a-z0-9_-]*\.[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(ref.trim())) found.unshift("The ref is <pack>.<name>, e.g. ops.operators.");
    setProblems(found);
    if (found.length === 0) save.mutate();
  }
  return (
    <Modal open wide title={set ? `Edit ${set.ref}` : "New permission set"} onClose={onClose}>
      <form className="space-y-3" onSubmit={submit}>
        {!set && (
          <Field label="Ref" htmlFor="set-ref" required hint="<pack>.<name>, e.g. ops.operators">
            <Input id="set-ref" value={ref} onChange={(e) => setRef(e.target.value)} autoFocus />
          </Field>
        )}
        <Field label="Label" htmlFor="set-label">
          <Input id="set-label" value={label} onChange={(e) => setLabel(e.target.value)} />
        </Field>
        <Field label="Description" htmlFor="set-description">
          <TextArea id="set-description" rows={2} className="font-sans" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <GrantsEditor grants={grants} onChange={setGrants} />
        {(problems.length > 0 || save.error) && (
          <div role="alert" className="text-sm text-red-600">
            {problems.map((p) => <p key={p}>{p}</p>)}
            {save.error && <p>{errorText(save.error)}</p>}
          </div>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={save.isPending}>{save.isPending ? "Saving…" : set ? "Save permission set" : "Create permission set"}</Button>
        </div>
      </form>
    </Modal>
  );
}

function SetDetail({ set, onEdit }: { set: PermissionSet; onEdit: () => void }) {
  const holders = useAssignments({ permset: set.id });
  const identities = useIdentities();
  const logins = useMemo(() => new Map(identities.rows.map((i) => [i.id, i.login])), [identities.rows]);
  const grants = toGrants(set.grants);
  return (
    <Card
      title={<span>{set.label ?? set.ref} <span className="font-mono text-xs font-normal text-slate-500">{set.ref}</span></span>}
      actions={<Button size="sm" onClick={onEdit}><Pencil className="h-3.5 w-3.5" aria-hidden /> Edit</Button>}
    >
      <div className="space-y-4 text-sm">
        {set.description && <p className="text-slate-600 dark:text-slate-400">{set.description}</p>}
        <section>
          <h3 className="mb-1 font-semibold">Grants ({grants.length})</h3>
          {grants.length === 0 ? (
            <p className="text-slate-500">No grants: this set allows nothing.</p>
          ) : (
            <table className="w-full text-left" aria-label="Grants">
              <thead className="text-xs uppercase text-slate-500">
                <tr><th className="py-1 pr-3">Resource</th><th className="py-1 pr-3">Operations</th><th className="py-1 pr-3">Pack</th><th className="py-1">Means</th></tr>
              </thead>
              <tbody>
                {grants.map((g, i) => (
                  <tr key={i} className="border-t border-slate-100 dark:border-slate-800">
                    <td className="py-1 pr-3 font-mono">{g.resource}</td>
                    <td className="py-1 pr-3"><span className="flex flex-wrap gap-1">{g.operations.map((o) => <Badge key={o}>{o}</Badge>)}</span></td>
                    <td className="py-1 pr-3">{g.pack ?? "any"}</td>
                    <td className="py-1 text-slate-500">{grantText(g)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section>
          <h3 className="mb-1 font-semibold">Held by</h3>
          {holders.isPending ? (
            <Loading />
          ) : holders.error ? (
            <ErrorState error={holders.error} retry={() => holders.refetch()} />
          ) : holders.rows.length === 0 ? (
            <p className="text-slate-500">Nobody holds this set.</p>
          ) : (
            <ul className="flex flex-wrap gap-2">
              {holders.rows.map((a) => (
                <li key={a.id}>
                  <Link className="text-indigo-600 underline" to={`/access/identities?identity=${a.identity}`}>{logins.get(a.identity) ?? `identity #${a.identity}`}</Link>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </Card>
  );
}

export function PermissionSets() {
  const [params, setParams] = useSearchParams();
  const selectedRef = params.get("set");
  const [editing, setEditing] = useState<PermissionSet | "new" | null>(null);
  const list = usePermissionSets();
  const selected = list.rows.find((s) => s.ref === selectedRef) ?? list.rows[0];
  if (list.isPending) return <Loading />;
  if (list.error) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  return (
    <div>
      <div className="mb-3 flex justify-end">
        <Button variant="primary" onClick={() => setEditing("new")}><Plus className="h-4 w-4" aria-hidden /> New permission set</Button>
      </div>
      {list.rows.length === 0 ? (
        <Empty title="No permission sets." />
      ) : (
        <div className="grid gap-4 lg:grid-cols-[18rem_1fr]">
          <nav aria-label="Permission sets">
            <ul className="space-y-1">
              {list.rows.map((s) => (
                <li key={s.id}>
                  <Link
                    to={`/access/permission-sets?set=${encodeURIComponent(s.ref)}`}
                    aria-current={s.id === selected?.id ? "page" : undefined}
                    className={cx(
                      "block rounded-md border px-3 py-2 text-sm",
                      s.id === selected?.id
                        ? "border-indigo-400 bg-indigo-50 dark:border-indigo-700 dark:bg-indigo-950/40"
                        : "border-slate-200 hover:bg-slate-50 dark:border-slate-800 dark:hover:bg-slate-800/50",
                    )}
                  >
                    <span className="block font-mono text-xs">{s.ref}</span>
                    <span className="block text-slate-500">{s.label ?? "—"} · {s.grants.length} grant{s.grants.length === 1 ? "" : "s"}</span>
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          {selected && <SetDetail key={selected.id} set={selected} onEdit={() => setEditing(selected)} />}
        </div>
      )}
      {editing && (
        <SetEditor
          set={editing === "new" ? undefined : editing}
          onClose={() => setEditing(null)}
          onSaved={(ref) => {
            setEditing(null);
            setParams({ set: ref });
          }}
        />
      )}
    </div>
  );
}
