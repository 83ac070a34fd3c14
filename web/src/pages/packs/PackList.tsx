// Packs: every installed pack, searchable; create an empty pack, or install one from a URL
// (git or archive) or an uploaded .tar.gz.
import { Plus, Upload } from "lucide-react";
import { useState } from "react";
import { useNavigate } from "react-router";
import type { Schemas } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { Modal } from "@/components/Modal";
import { ErrorState, Empty, Loading } from "@/components/states";
import { Badge, Button, Field, Input, PageHeader, TextArea } from "@/components/ui";
import { SearchBox, errorText, filterRows, send, useAllRows, useInvalidate, useQueryParam } from "@/components/catalog";
import { InstallPack } from "./InstallPack";

type Pack = Schemas["Pack"];

export default function PackList() {
  const list = useAllRows<Pack>(["packs"], "/api/v1/packs");
  const [q] = useQueryParam("q");
  const [dialog, setDialog] = useQueryParam("dialog");
  const rows = filterRows(list.rows, q, (p) => [p.ref, p.label, p.description, ...(p.tags ?? [])]);
  return (
    <div>
      <PageHeader
        title="Packs"
        subtitle="Bundles of actions, triggers, sensors, rules and workflows."
        actions={
          <>
            <Button onClick={() => setDialog("install", true)}>
              <Upload className="h-4 w-4" aria-hidden /> Install pack
            </Button>
            <Button variant="primary" onClick={() => setDialog("new", true)}>
              <Plus className="h-4 w-4" aria-hidden /> New pack
            </Button>
          </>
        }
      />
      <div className="mb-3">
        <SearchBox label="Search packs" />
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Packs"
          rows={rows}
          rowKey={(p) => p.id}
          rowHref={(p) => `/packs/${encodeURIComponent(p.ref)}`}
          empty={<Empty title={q ? "No pack matches this search." : "No packs yet."} />}
          columns={[
            { key: "ref", header: "Ref", width: "minmax(10rem, 1fr)", cell: (p) => <span className="font-medium">{p.ref}</span> },
            { key: "label", header: "Label", width: "minmax(10rem, 1fr)", cell: (p) => p.label },
            { key: "version", header: "Version", width: "6rem", cell: (p) => p.version },
            { key: "description", header: "Description", width: "minmax(12rem, 3fr)", cell: (p) => <span className="truncate text-slate-600 dark:text-slate-400">{p.description}</span> },
            { key: "std", header: "", width: "6rem", cell: (p) => (p.is_standard ? <Badge tone="blue">standard</Badge> : null) },
          ]}
        />
      )}
      <Modal open={dialog === "new"} title="New pack" onClose={() => setDialog("")}>
        <NewPack onDone={() => setDialog("")} />
      </Modal>
      <Modal open={dialog === "install"} title="Install pack" onClose={() => setDialog("")} wide>
        <InstallPack />
      </Modal>
    </div>
  );
}

function NewPack(props: { onDone: () => void }) {
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const [ref, setRef] = useState("");
  const [label, setLabel] = useState("");
  const [version, setVersion] = useState("0.1.0");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="space-y-3"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          const pack = await send<Pack>("/api/v1/packs", { ref, label: label || ref, version, description: description || null });
          await invalidate("packs");
          props.onDone();
          navigate(`/packs/${encodeURIComponent(pack.ref)}`);
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <Field label="Ref" htmlFor="pack-ref" required hint="Lowercase letters, digits and underscores.">
        <Input id="pack-ref" required pattern="[a-z0-9_]+" value={ref} onChange={(e) => setRef(e.target.value)} />
      </Field>
      <Field label="Label" htmlFor="pack-label">
        <Input id="pack-label" value={label} placeholder={ref} onChange={(e) => setLabel(e.target.value)} />
      </Field>
      <Field label="Version" htmlFor="pack-version" required>
        <Input id="pack-version" required value={version} onChange={(e) => setVersion(e.target.value)} />
      </Field>
      <Field label="Description" htmlFor="pack-description">
        <TextArea id="pack-description" className="font-sans" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      {error && <ErrorState error={error} />}
      <div className="flex justify-end gap-2">
        <Button onClick={props.onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={busy}>
          Create pack
        </Button>
      </div>
    </form>
  );
}
