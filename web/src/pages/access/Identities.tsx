// Identities: create, freeze/unfreeze, manage roles (permission-set assignments), delete.
// ?q= filters the list, ?identity=<id> opens that identity's roles dialog.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Plus, Snowflake, Sun, Trash2, UserCog } from "lucide-react";
import { type FormEvent, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap } from "@/api/client";
import { ConfirmDialog, errorText } from "@/components/Confirm";
import { type Column, DataTable } from "@/components/DataTable";
import { Modal } from "@/components/Modal";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge, Button, Field, Input, Select } from "@/components/ui";
import { useAuth } from "@/lib/auth";
import { relativeTime } from "@/lib/format";
import { ACCESS_KEYS, type Identity, useAssignments, useIdentities, usePermissionSets } from "./data";

function useInvalidate() {
  const client = useQueryClient();
  return () => Promise.all(ACCESS_KEYS.map((queryKey) => client.invalidateQueries({ queryKey: [...queryKey] })));
}

function CreateIdentity({ onClose }: { onClose: () => void }) {
  const sets = usePermissionSets();
  const invalidate = useInvalidate();
  const [roles, setRoles] = useState<string[]>(["core.viewer"]);
  const create = useMutation({
    mutationFn: (body: { login: string; display_name: string | null; password: string | null; roles: string[] }) =>
      unwrap(api.POST("/api/v1/identities", { body })),
    onSuccess: async () => {
      await invalidate();
      onClose();
    },
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      login: String(form.get("login")).trim(),
      display_name: String(form.get("display_name") || "").trim() || null,
      password: String(form.get("password") || "") || null,
      roles,
    });
  }
  return (
    <Modal open title="New identity" onClose={onClose}>
      <form className="space-y-3" onSubmit={submit}>
        <Field label="Login" htmlFor="identity-login" required>
          <Input id="identity-login" name="login" required autoFocus autoComplete="off" />
        </Field>
        <Field label="Display name" htmlFor="identity-display-name">
          <Input id="identity-display-name" name="display_name" autoComplete="off" />
        </Field>
        <Field label="Password" htmlFor="identity-password" hint="8 to 128 characters; leave empty for an identity that signs in otherwise (tokens).">
          <Input id="identity-password" name="password" type="password" autoComplete="new-password" minLength={8} maxLength={128} />
        </Field>
        <fieldset>
          <legend className="mb-1 text-sm font-medium">Roles</legend>
          {sets.isPending ? (
            <Loading />
          ) : (
            <div className="grid grid-cols-2 gap-1 text-sm">
              {sets.rows.map((s) => (
                <label key={s.id} className="flex items-center gap-2" title={s.description ?? ""}>
                  <input
                    type="checkbox"
                    checked={roles.includes(s.ref)}
                    onChange={(e) => setRoles(e.target.checked ? [...roles, s.ref] : roles.filter((r) => r !== s.ref))}
                  />
                  {s.ref}
                </label>
              ))}
            </div>
          )}
        </fieldset>
        {create.error && <p role="alert" className="text-sm text-red-600">{errorText(create.error)}</p>}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={create.isPending}>{create.isPending ? "Creating…" : "Create identity"}</Button>
        </div>
      </form>
    </Modal>
  );
}

function ManageIdentity({ identity, onClose }: { identity: Identity; onClose: () => void }) {
  const sets = usePermissionSets();
  const assignments = useAssignments({ identity: identity.id });
  const invalidate = useInvalidate();
  const [choice, setChoice] = useState("");
  const [displayName, setDisplayName] = useState(identity.display_name ?? "");
  const [password, setPassword] = useState("");
  const byId = useMemo(() => new Map(sets.rows.map((s) => [s.id, s])), [sets.rows]);
  const held = new Set(assignments.rows.map((a) => a.permset));
  const assign = useMutation({
    mutationFn: (permset: number) => unwrap(api.POST("/api/v1/identities/{id}/roles", { params: { path: { id: identity.id } }, body: { permset } })),
    onSuccess: async () => {
      setChoice("");
      await invalidate();
    },
  });
  const remove = useMutation({
    mutationFn: (assignment: number) => unwrap(api.DELETE("/api/v1/identities/roles/{id}", { params: { path: { id: assignment } } })),
    onSuccess: () => invalidate(),
  });
  const update = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT("/api/v1/identities/{id}", {
          params: { path: { id: identity.id } },
          body: { display_name: displayName.trim() || null, ...(password ? { password } : {}) },
        }),
      ),
    onSuccess: async () => {
      setPassword("");
      await invalidate();
    },
  });
  const error = assign.error ?? remove.error;
  return (
    <Modal open wide title={`Identity ${identity.login}`} onClose={onClose}>
      <div className="space-y-5">
        <section aria-labelledby="roles-heading" className="space-y-2">
          <h3 id="roles-heading" className="text-sm font-semibold">Roles</h3>
          {assignments.isPending ? (
            <Loading />
          ) : assignments.error ? (
            <ErrorState error={assignments.error} retry={() => assignments.refetch()} />
          ) : assignments.rows.length === 0 ? (
            <p className="text-sm text-slate-500">No roles: this identity can do nothing yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100 rounded-md border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-700" aria-label="Assigned roles">
              {assignments.rows.map((a) => {
                const set = byId.get(a.permset);
                return (
                  <li key={a.id} className="flex items-center gap-2 px-3 py-1.5">
                    <Badge tone="blue">{set?.ref ?? `set #${a.permset}`}</Badge>
                    <span className="truncate text-slate-500">{set?.label}</span>
                    <span className="ml-auto text-xs text-slate-500">since {relativeTime(a.created)}</span>
                    <Button size="sm" variant="ghost" aria-label={`Remove role ${set?.ref ?? a.permset}`} disabled={remove.isPending} onClick={() => remove.mutate(a.id)}>
                      <Trash2 className="h-3.5 w-3.5 text-red-600" aria-hidden />
                    </Button>
                  </li>
                );
              })}
            </ul>
          )}
          <form
            className="flex items-end gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              if (choice) assign.mutate(Number(choice));
            }}
          >
            <div className="w-72">
              <Field label="Add a role" htmlFor="assign-role">
                <Select id="assign-role" value={choice} onChange={(e) => setChoice(e.target.value)}>
                  <option value="">choose a permission set…</option>
                  {sets.rows.filter((s) => !held.has(s.id)).map((s) => (
                    <option key={s.id} value={s.id}>{s.ref}{s.label ? ` (${s.label})` : ""}</option>
                  ))}
                </Select>
              </Field>
            </div>
            <Button type="submit" variant="primary" disabled={!choice || assign.isPending}>Assign role</Button>
          </form>
          {error && <p role="alert" className="text-sm text-red-600">{errorText(error)}</p>}
        </section>
        <section aria-labelledby="details-heading" className="space-y-2 border-t border-slate-200 pt-4 dark:border-slate-800">
          <h3 id="details-heading" className="text-sm font-semibold">Details</h3>
          <form
            className="grid grid-cols-2 gap-3"
            onSubmit={(e) => {
              e.preventDefault();
              update.mutate();
            }}
          >
            <Field label="Display name" htmlFor="manage-display-name">
              <Input id="manage-display-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
            </Field>
            <Field label="New password" htmlFor="manage-password" hint="Leave empty to keep the current one.">
              <Input id="manage-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            </Field>
            <div className="col-span-2 flex items-center gap-3">
              <Button type="submit" disabled={update.isPending}>Save details</Button>
              {update.isSuccess && <span role="status" className="text-sm text-green-700 dark:text-green-400">Saved.</span>}
              {update.error && <span role="alert" className="text-sm text-red-600">{errorText(update.error)}</span>}
            </div>
          </form>
        </section>
      </div>
    </Modal>
  );
}

function FreezeButton({ identity, self }: { identity: Identity; self: boolean }) {
  const invalidate = useInvalidate();
  const mutation = useMutation({
    mutationFn: () =>
      identity.frozen
        ? unwrap(api.POST("/api/v1/identities/{id}/unfreeze", { params: { path: { id: identity.id } } }))
        : unwrap(api.POST("/api/v1/identities/{id}/freeze", { params: { path: { id: identity.id } } })),
    onSettled: () => invalidate(),
  });
  return (
    <Button
      size="sm"
      variant="ghost"
      disabled={self || mutation.isPending}
      title={self ? "You cannot freeze yourself" : identity.frozen ? "Let this identity sign in again" : "Stop this identity's tokens from working"}
      aria-label={`${identity.frozen ? "Unfreeze" : "Freeze"} ${identity.login}`}
      onClick={() => mutation.mutate()}
    >
      {identity.frozen ? <Sun className="h-3.5 w-3.5" aria-hidden /> : <Snowflake className="h-3.5 w-3.5" aria-hidden />}
      {identity.frozen ? "Unfreeze" : "Freeze"}
    </Button>
  );
}

export function Identities() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const managing = params.get("identity");
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Identity | null>(null);
  const me = useAuth((s) => s.user);
  const list = useIdentities();
  const invalidate = useInvalidate();
  const rows = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return needle
      ? list.rows.filter((i) => [i.login, i.display_name ?? "", ...i.roles].some((s) => s.toLowerCase().includes(needle)))
      : list.rows;
  }, [list.rows, q]);
  const setParam = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: name === "q" });
  };
  const managed = managing ? list.rows.find((i) => String(i.id) === managing) : undefined;

  const columns: Column<Identity>[] = [
    {
      key: "login",
      header: "Identity",
      width: "minmax(14rem, 2fr)",
      cell: (i) => (
        <span className="min-w-0 truncate">
          <span className="font-medium">{i.login}</span>
          {i.display_name && <span className="ml-2 text-slate-500">{i.display_name}</span>}
          {i.attributes.system === true && <Badge>system</Badge>}
        </span>
      ),
    },
    {
      key: "roles",
      header: "Roles",
      width: "minmax(10rem, 2fr)",
      cell: (i) => (
        <span className="flex min-w-0 gap-1 overflow-hidden" title={i.roles.join(", ")}>
          {i.roles.length ? i.roles.map((r) => <Badge key={r} tone="blue">{r}</Badge>) : <span className="text-slate-400">none</span>}
        </span>
      ),
    },
    { key: "status", header: "Status", width: "6rem", cell: (i) => (i.frozen ? <Badge tone="red">frozen</Badge> : <Badge tone="green">active</Badge>) },
    { key: "created", header: "Created", width: "8rem", cell: (i) => <span title={i.created}>{relativeTime(i.created)}</span> },
    {
      key: "actions",
      header: <span className="sr-only">Actions</span>,
      width: "15rem",
      cell: (i) => (
        <span className="flex gap-1">
          <Button size="sm" variant="ghost" aria-label={`Manage ${i.login}`} onClick={() => setParam("identity", String(i.id))}>
            <UserCog className="h-3.5 w-3.5" aria-hidden /> Roles
          </Button>
          <FreezeButton identity={i} self={i.id === me?.id} />
          <Button size="sm" variant="ghost" aria-label={`Delete ${i.login}`} disabled={i.id === me?.id} onClick={() => setDeleting(i)}>
            <Trash2 className="h-3.5 w-3.5 text-red-600" aria-hidden />
          </Button>
        </span>
      ),
    },
  ];

  return (
    <div>
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <div className="w-72">
          <Field label="Search identities" htmlFor="identity-search">
            <Input id="identity-search" type="search" placeholder="login, name or role" value={q} onChange={(e) => setParam("q", e.target.value)} />
          </Field>
        </div>
        <Button variant="primary" className="ml-auto" onClick={() => setCreating(true)}>
          <Plus className="h-4 w-4" aria-hidden /> New identity
        </Button>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Identities"
          rows={rows}
          columns={columns}
          rowKey={(i) => i.id}
          onEndReached={list.hasNextPage ? () => void list.fetchNextPage() : undefined}
          empty={<Empty title={q ? "No identity matches this search." : "No identities."} />}
        />
      )}
      {creating && <CreateIdentity onClose={() => setCreating(false)} />}
      {managed && <ManageIdentity key={managed.id} identity={managed} onClose={() => setParam("identity", null)} />}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete identity"
        confirmLabel="Delete identity"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          await unwrap(api.DELETE("/api/v1/identities/{id}", { params: { path: { id: deleting!.id } } }));
          await invalidate();
        }}
      >
        Delete <strong>{deleting?.login}</strong>? Their tokens stop working and their role assignments are removed.
      </ConfirmDialog>
    </div>
  );
}
