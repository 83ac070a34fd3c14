// One pack: its properties, its configuration edited against conf_schema, and its components
// (actions, triggers, sensors, rules, workflows), each tab with its own URL.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { type Schemas, api, unwrap } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { SchemaForm, type Values } from "@/components/SchemaForm";
import { validateValues } from "@/components/schemaFields";
import { ErrorState, Empty, QueryState } from "@/components/states";
import { Badge, Button, Card, PageHeader, Properties, StatusBadge, TextArea } from "@/components/ui";
import { DeleteButton, Tabs, errorText, send, useAllRows, useInvalidate } from "@/components/catalog";
import { dateTime } from "@/lib/format";

type Pack = Schemas["Pack"];

export default function PackDetail() {
  const ref = useParams().ref!;
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const query = useQuery({
    queryKey: ["packs", ref],
    queryFn: () => unwrap(api.GET("/api/v1/packs/{ref}", { params: { path: { ref } } })).then((b) => b.data),
  });
  return (
    <QueryState query={query}>
      {(pack) => (
        <div className="space-y-4">
          <PageHeader
            title={pack.label || pack.ref}
            subtitle={
              <>
                {pack.ref} · version {pack.version} {pack.is_standard && <Badge tone="blue">standard</Badge>}
              </>
            }
            actions={
              <DeleteButton
                what={`pack ${pack.ref} and everything in it`}
                onDelete={async () => {
                  await send(`/api/v1/packs/${encodeURIComponent(pack.ref)}`, undefined, "DELETE");
                  await invalidate("packs", "actions", "rules", "triggers", "sensors");
                  navigate("/packs");
                }}
              />
            }
          />
          <div className="grid gap-4 xl:grid-cols-2">
            <Card title="About">
              <Properties
                items={[
                  ["Description", pack.description],
                  ["Tags", pack.tags?.length ? pack.tags.join(", ") : "—"],
                  ["Dependencies", pack.dependencies?.length ? pack.dependencies.join(", ") : "—"],
                  ["Runtime deps", pack.runtime_deps?.length ? pack.runtime_deps.join(", ") : "—"],
                  ["Created", dateTime(pack.created)],
                  ["Updated", dateTime(pack.updated)],
                ]}
              />
            </Card>
            <PackConfig pack={pack} />
          </div>
          <Card title="Components">
            <Tabs
              tabs={[
                { id: "actions", label: "Actions" },
                { id: "triggers", label: "Triggers" },
                { id: "sensors", label: "Sensors" },
                { id: "rules", label: "Rules" },
                { id: "workflows", label: "Workflows" },
              ]}
            >
              {(tab) => <Components pack={pack.ref} kind={tab as Kind} />}
            </Tabs>
          </Card>
        </div>
      )}
    </QueryState>
  );
}

function PackConfig({ pack }: { pack: Pack }) {
  const invalidate = useInvalidate();
  const schema = pack.conf_schema ?? {};
  const hasSchema = Object.keys(schema).length > 0;
  const [value, setValue] = useState<Values>(pack.config ?? {});
  const [text, setText] = useState(JSON.stringify(pack.config ?? {}, null, 2));
  const [showErrors, setShowErrors] = useState(false);
  const [status, setStatus] = useState<{ ok?: string; error?: string }>({});
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setValue(pack.config ?? {});
    setText(JSON.stringify(pack.config ?? {}, null, 2));
  }, [pack.config]);

  const save = async () => {
    let config: Values;
    if (hasSchema) {
      if (Object.keys(validateValues(schema, value)).length > 0) {
        setShowErrors(true);
        return;
      }
      config = value;
    } else {
      try {
        config = JSON.parse(text || "{}");
      } catch (e) {
        setStatus({ error: `config is not valid JSON: ${errorText(e)}` });
        return;
      }
    }
    setBusy(true);
    setStatus({});
    try {
      await send(`/api/v1/packs/${encodeURIComponent(pack.ref)}`, { config }, "PUT");
      await invalidate("packs");
      setStatus({ ok: "Configuration saved." });
    } catch (e) {
      setStatus({ error: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Configuration">
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {hasSchema ? (
          <SchemaForm schema={schema} value={value} showErrors={showErrors} onChange={(v) => setValue(v)} />
        ) : (
          <>
            <p className="text-sm text-slate-500 dark:text-slate-400">This pack has no conf_schema; its configuration is free-form JSON.</p>
            <label htmlFor="pack-config" className="sr-only">
              Configuration (JSON)
            </label>
            <TextArea id="pack-config" rows={6} value={text} onChange={(e) => setText(e.target.value)} />
          </>
        )}
        {status.error && <ErrorState error={status.error} />}
        {status.ok && (
          <p role="status" className="text-sm text-green-700 dark:text-green-400">
            {status.ok}
          </p>
        )}
        <div className="flex justify-end">
          <Button type="submit" variant="primary" disabled={busy}>
            Save configuration
          </Button>
        </div>
      </form>
    </Card>
  );
}

type Kind = "actions" | "triggers" | "sensors" | "rules" | "workflows";

interface Row {
  id: number;
  ref: string;
  label?: string | null;
  description?: string | null;
  enabled?: boolean;
}

const DETAIL: Record<Kind, (ref: string) => string> = {
  actions: (r) => `/actions/${encodeURIComponent(r)}`,
  triggers: (r) => `/triggers/${encodeURIComponent(r)}`,
  sensors: (r) => `/sensors/${encodeURIComponent(r)}`,
  rules: (r) => `/rules/${encodeURIComponent(r)}`,
  workflows: (r) => `/actions/${encodeURIComponent(r)}`,
};

function Components({ pack, kind }: { pack: string; kind: Kind }) {
  const list = useAllRows<Row>([kind, "pack", pack], `/api/v1/packs/${encodeURIComponent(pack)}/${kind}`);
  if (list.isPending) return <p role="status" className="text-sm text-slate-500">Loading…</p>;
  if (list.error) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  return (
    <DataTable
      label={`${kind} of ${pack}`}
      rows={list.rows}
      rowKey={(r) => r.id}
      rowHref={(r) => DETAIL[kind](r.ref)}
      maxHeight="24rem"
      empty={<Empty title={`This pack has no ${kind}.`} />}
      columns={[
        { key: "ref", header: "Ref", width: "minmax(12rem, 1fr)", cell: (r) => <span className="font-medium">{r.ref}</span> },
        { key: "label", header: "Label", width: "minmax(10rem, 1fr)", cell: (r) => r.label },
        { key: "description", header: "Description", width: "minmax(12rem, 2fr)", cell: (r) => <span className="truncate text-slate-600 dark:text-slate-400">{r.description}</span> },
        {
          key: "enabled",
          header: "State",
          width: "7rem",
          cell: (r) => (r.enabled === undefined ? null : <StatusBadge status={r.enabled ? "enabled" : "disabled"} />),
        },
      ]}
    />
  );
}

