// Keys: the key-value store. Lists omit values; "Reveal" fetches one key (the API decrypts
// encrypted values for callers allowed to read them) and shows it until hidden again.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Eye, EyeOff, Lock, Pencil, Plus, Trash2 } from "lucide-react";
import { type FormEvent, useState } from "react";
import { useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { ConfirmDialog, errorText } from "@/components/Confirm";
import { type Column, DataTable } from "@/components/DataTable";
import { Modal } from "@/components/Modal";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge, Button, Field, Input, PageHeader, Select, TextArea } from "@/components/ui";
import { relativeTime } from "@/lib/format";
import { useDebouncedParam } from "@/lib/useDebouncedParam";
import {
  createBody,
  EMPTY_KEY,
  type KeyFormValues,
  OWNER_TYPES,
  ownerLabel,
  plural,
  updateBody,
  validateKey,
  valueText,
} from "./keyForm";

type Key = Schemas["Key"];

function fetchKey(ref: string): Promise<Key> {
  return unwrap(api.GET("/api/v1/keys/{ref}", { params: { path: { ref } } })).then((r) => r.data);
}

function RevealedValue({ refName, onHide }: { refName: string; onHide: () => void }) {
  const query = useQuery({ queryKey: ["keys", "value", refName], queryFn: () => fetchKey(refName), staleTime: 0, gcTime: 0 });
  if (query.isPending) return <span className="text-slate-500">Decrypting…</span>;
  if (query.error) return <span role="alert" className="truncate text-red-600">{errorText(query.error)}</span>;
  const { text } = valueText(query.data.value);
  return (
    <span className="flex min-w-0 items-center gap-1">
      <code data-testid={`value-${refName}`} className="truncate rounded bg-slate-100 px-1 font-mono text-xs dark:bg-slate-800" title={text}>
        {text}
      </code>
      <Button size="sm" variant="ghost" aria-label={`Hide value of ${refName}`} onClick={onHide}>
        <EyeOff className="h-3.5 w-3.5" aria-hidden />
      </Button>
    </span>
  );
}

function KeyModal(props: { mode: "create" | "edit"; initial: KeyFormValues; onClose: () => void }) {
  const [form, setForm] = useState(props.initial);
  const [touched, setTouched] = useState(false);
  const client = useQueryClient();
  const problems = validateKey(form);
  const save = useMutation({
    mutationFn: () =>
      props.mode === "create"
        ? unwrap(api.POST("/api/v1/keys", { body: createBody(form) }))
        : unwrap(api.PUT("/api/v1/keys/{ref}", { params: { path: { ref: form.ref } }, body: updateBody(form) })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ["keys"] });
      props.onClose();
    },
  });
  const set = <K extends keyof KeyFormValues>(name: K, value: KeyFormValues[K]) => setForm((f) => ({ ...f, [name]: value }));
  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (Object.keys(problems).length === 0) save.mutate();
  }
  const show = (field: keyof KeyFormValues) => (touched ? problems[field] : undefined);
  const creating = props.mode === "create";
  return (
    <Modal open title={creating ? "New key" : `Edit key ${form.ref}`} onClose={props.onClose}>
      <form onSubmit={submit} className="space-y-3" noValidate>
        <Field label="Ref" htmlFor="key-ref" required hint={creating ? "Lowercase and dotted; the name is its last part." : undefined} error={show("ref")}>
          <Input id="key-ref" value={form.ref} disabled={!creating} onChange={(e) => set("ref", e.target.value)} autoFocus={creating} />
        </Field>
        {creating && (
          <div className="grid grid-cols-2 gap-3">
            <Field label="Owner type" htmlFor="key-owner-type">
              <Select id="key-owner-type" value={form.ownerType} onChange={(e) => set("ownerType", e.target.value as KeyFormValues["ownerType"])}>
                {OWNER_TYPES.map((o) => (
                  <option key={o}>{o}</option>
                ))}
              </Select>
            </Field>
            <Field label="Owner" htmlFor="key-owner" error={show("owner")} hint={form.ownerType === "identity" ? "identity id" : form.ownerType === "system" ? "none for system keys" : `${form.ownerType} ref`}>
              <Input id="key-owner" value={form.owner} disabled={form.ownerType === "system"} onChange={(e) => set("owner", e.target.value)} />
            </Field>
          </div>
        )}
        <Field label="Value" htmlFor="key-value" error={show("value")}>
          <TextArea id="key-value" rows={form.asJson ? 6 : 2} value={form.value} onChange={(e) => set("value", e.target.value)} autoFocus={!creating} />
        </Field>
        <div className="flex flex-wrap gap-4 text-sm">
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={form.asJson} onChange={(e) => set("asJson", e.target.checked)} /> Value is JSON
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={form.encrypted} onChange={(e) => set("encrypted", e.target.checked)} /> Encrypted
          </label>
        </div>
        {save.error && (
          <p role="alert" className="text-sm text-red-600">
            {errorText(save.error)}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : creating ? "Create key" : "Save"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

/** Edit loads the current (decrypted) value first, so the form starts from it. */
function EditKey({ refName, onClose }: { refName: string; onClose: () => void }) {
  const query = useQuery({ queryKey: ["keys", "value", refName], queryFn: () => fetchKey(refName), staleTime: 0, gcTime: 0 });
  if (query.isPending || query.error)
    return (
      <Modal open title={`Edit key ${refName}`} onClose={onClose}>
        {query.error ? <ErrorState error={query.error} retry={() => query.refetch()} /> : <Loading />}
      </Modal>
    );
  const { text, asJson } = valueText(query.data.value);
  return (
    <KeyModal
      mode="edit"
      onClose={onClose}
      initial={{ ...EMPTY_KEY, ref: refName, value: text, asJson, encrypted: query.data.encrypted, ownerType: query.data.owner_type }}
    />
  );
}

export default function KeyList() {
  const [params, setParams] = useSearchParams();
  const ownerType = params.get("owner_type") ?? "";
  const owner = params.get("owner") ?? "";
  const [ownerText, setOwnerText] = useDebouncedParam("owner");
  const [revealed, setRevealed] = useState<Set<string>>(new Set());
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const client = useQueryClient();
  const list = useInfiniteList<Key>(["keys"], "/api/v1/keys", { owner_type: ownerType, owner });

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const toggle = (ref: string, on: boolean) =>
    setRevealed((current) => {
      const next = new Set(current);
      if (on) next.add(ref);
      else next.delete(ref);
      return next;
    });

  const columns: Column<Key>[] = [
    { key: "ref", header: "Ref", width: "minmax(12rem, 2fr)", cell: (k) => <span className="truncate font-mono text-xs" title={k.ref}>{k.ref}</span> },
    { key: "owner", header: "Owner", width: "minmax(8rem, 1fr)", cell: (k) => <span className="truncate">{ownerLabel(k)}</span> },
    {
      key: "encrypted",
      header: "Encrypted",
      width: "7rem",
      cell: (k) =>
        k.encrypted ? (
          <Badge tone="amber">
            <Lock className="mr-1 h-3 w-3" aria-hidden /> encrypted
          </Badge>
        ) : (
          <span className="text-slate-400">no</span>
        ),
    },
    {
      key: "value",
      header: "Value",
      width: "minmax(12rem, 2fr)",
      cell: (k) =>
        revealed.has(k.ref) ? (
          <RevealedValue refName={k.ref} onHide={() => toggle(k.ref, false)} />
        ) : (
          <Button size="sm" variant="ghost" aria-label={`Reveal value of ${k.ref}`} onClick={() => toggle(k.ref, true)}>
            <Eye className="h-3.5 w-3.5" aria-hidden /> {k.encrypted ? "Reveal" : "Show"}
          </Button>
        ),
    },
    { key: "updated", header: "Updated", width: "8rem", cell: (k) => <span title={k.updated}>{relativeTime(k.updated)}</span> },
    {
      key: "actions",
      header: <span className="sr-only">Actions</span>,
      width: "6rem",
      cell: (k) => (
        <span className="flex gap-1">
          <Button size="sm" variant="ghost" aria-label={`Edit ${k.ref}`} onClick={() => setEditing(k.ref)}>
            <Pencil className="h-3.5 w-3.5" aria-hidden />
          </Button>
          <Button size="sm" variant="ghost" aria-label={`Delete ${k.ref}`} onClick={() => setDeleting(k.ref)}>
            <Trash2 className="h-3.5 w-3.5 text-red-600" aria-hidden />
          </Button>
        </span>
      ),
    },
  ];

  const filtered = Boolean(ownerType || owner);
  return (
    <div>
      <PageHeader
        title="Keys"
        subtitle="Values for actions, sensors and rules ({{ keystore.name }}); encrypted values are revealed on demand."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <Plus className="h-4 w-4" aria-hidden /> New key
          </Button>
        }
      />
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <div className="w-40">
          <Field label="Owner type" htmlFor="filter-owner-type">
            <Select id="filter-owner-type" value={ownerType} onChange={(e) => setFilter("owner_type", e.target.value)}>
              <option value="">any</option>
              {OWNER_TYPES.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </Select>
          </Field>
        </div>
        <div className="w-56">
          <Field label="Owner" htmlFor="filter-owner">
            <Input id="filter-owner" placeholder="pack/action ref or identity id" value={ownerText} onChange={(e) => setOwnerText(e.target.value)} />
          </Field>
        </div>
        {filtered && (
          <Button variant="ghost" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </Button>
        )}
        <span className="ml-auto text-sm text-slate-500">
          {list.data ? plural(list.data.pages[0]?.pagination.total_items ?? list.rows.length, "key") : ""}
        </span>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Keys"
          rows={list.rows}
          columns={columns}
          rowKey={(k) => k.id}
          onEndReached={list.hasNextPage ? () => void list.fetchNextPage() : undefined}
          empty={
            <Empty title={filtered ? "No key matches these filters." : "No keys yet."}>
              {!filtered && <Button onClick={() => setCreating(true)}>Create the first key</Button>}
            </Empty>
          }
        />
      )}
      {creating && <KeyModal mode="create" initial={{ ...EMPTY_KEY, ownerType: (ownerType || "system") as KeyFormValues["ownerType"], owner }} onClose={() => setCreating(false)} />}
      {editing && <EditKey refName={editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete key"
        confirmLabel="Delete key"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          await unwrap(api.DELETE("/api/v1/keys/{ref}", { params: { path: { ref: deleting! } } }));
          toggle(deleting!, false);
          await client.invalidateQueries({ queryKey: ["keys"] });
        }}
      >
        Delete <code className="font-mono">{deleting}</code>? Actions and rules that read it will no longer find it.
      </ConfirmDialog>
    </div>
  );
}
