// One trigger: its schemas, webhook (enable, disable, regenerate the key, copy the URL), the
// rules on it, the sensors that report it, and its events.
import { useQuery } from "@tanstack/react-query";
import { Check, Copy, Plus } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { type Schemas, api, unwrap } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { ParameterTable } from "@/components/ParameterTable";
import { ErrorState, Empty, QueryState } from "@/components/states";
import { Badge, Button, Card, Input, PageHeader, Properties, StatusBadge } from "@/components/ui";
import { DeleteButton, EnableToggle, RefLink, errorText, send, useAllRows, useInvalidate } from "@/components/catalog";
import { dateTime } from "@/lib/format";

type Trigger = Schemas["Trigger"];

export default function TriggerDetail() {
  const ref = useParams().ref!;
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const query = useQuery({
    queryKey: ["triggers", ref],
    queryFn: () => unwrap(api.GET("/api/v1/triggers/{ref}", { params: { path: { ref } } })).then((b) => b.data),
  });
  return (
    <QueryState query={query}>
      {(trigger) => (
        <div className="space-y-4">
          <PageHeader
            title={trigger.ref}
            subtitle={trigger.description || trigger.label}
            actions={
              <>
                <EnableToggle enabled={trigger.enabled} base={`/api/v1/triggers/${encodeURIComponent(trigger.ref)}`} label={`Trigger ${trigger.ref}`} invalidate={["triggers"]} />
                {trigger.is_adhoc && (
                  <DeleteButton
                    what={`trigger ${trigger.ref}`}
                    onDelete={async () => {
                      await send(`/api/v1/triggers/${encodeURIComponent(trigger.ref)}`, undefined, "DELETE");
                      await invalidate("triggers");
                      navigate("/triggers");
                    }}
                  />
                )}
                <Link
                  to={`/rules/new?trigger=${encodeURIComponent(trigger.ref)}${trigger.pack_ref ? `&pack=${encodeURIComponent(trigger.pack_ref)}` : ""}`}
                  className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
                >
                  <Plus className="h-4 w-4" aria-hidden /> New rule on this trigger
                </Link>
              </>
            }
          />
          <div className="grid gap-4 xl:grid-cols-2">
            <Card title="About">
              <Properties
                items={[
                  ["Pack", trigger.pack_ref ? <RefLink to={`/packs/${encodeURIComponent(trigger.pack_ref)}`}>{trigger.pack_ref}</RefLink> : "—"],
                  ["Label", trigger.label],
                  ["Ad hoc", trigger.is_adhoc ? "yes (created through the API)" : "no"],
                  ["Events", <RefLink to={`/events?trigger_ref=${encodeURIComponent(trigger.ref)}`}>Events of this trigger</RefLink>],
                  ["Updated", dateTime(trigger.updated)],
                ]}
              />
            </Card>
            <Webhook trigger={trigger} />
          </div>
          <div className="grid gap-4 xl:grid-cols-2">
            <Card title="Parameters (set by each rule)">
              <ParameterTable schema={trigger.param_schema} />
            </Card>
            <Card title="Payload (what events carry)">
              <ParameterTable schema={trigger.out_schema} />
            </Card>
          </div>
          <div className="grid gap-4 xl:grid-cols-2">
            <Related kind="rules" trigger={trigger.ref} />
            <Related kind="sensors" trigger={trigger.ref} />
          </div>
        </div>
      )}
    </QueryState>
  );
}

export function webhookUrl(key: string, origin = window.location.origin): string {
  return `${origin}/api/v1/webhooks/${key}`;
}

function Webhook({ trigger }: { trigger: Trigger }) {
  const invalidate = useInvalidate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const base = `/api/v1/triggers/${encodeURIComponent(trigger.ref)}/webhooks`;
  const act = async (verb: "enable" | "disable" | "regenerate") => {
    setBusy(true);
    setError(null);
    try {
      await send(`${base}/${verb}`, {});
      await invalidate("triggers");
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const url = trigger.webhook_enabled && trigger.webhook_key ? webhookUrl(trigger.webhook_key) : null;
  const copy = async () => {
    if (!url) return;
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      const input = document.getElementById("webhook-url") as HTMLInputElement | null;
      input?.select();
      document.execCommand?.("copy");
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <Card title="Webhook" actions={<StatusBadge status={trigger.webhook_enabled ? "enabled" : "disabled"} />}>
      <div className="space-y-3 text-sm">
        {url ? (
          <>
            <label htmlFor="webhook-url" className="block font-medium">
              Webhook URL
            </label>
            <div className="flex gap-2">
              <Input id="webhook-url" readOnly value={url} className="font-mono text-xs" onFocus={(e) => e.target.select()} />
              <Button onClick={copy} aria-label="Copy webhook URL">
                {copied ? <Check className="h-4 w-4" aria-hidden /> : <Copy className="h-4 w-4" aria-hidden />} {copied ? "Copied" : "Copy"}
              </Button>
            </div>
            <p className="text-xs text-slate-500 dark:text-slate-400">
              POST <code>{'{"payload": {...}}'}</code> to it (no sign-in needed); each request becomes an event of this trigger.
            </p>
          </>
        ) : (
          <p className="text-slate-600 dark:text-slate-400">Webhooks are off: enable them to get a URL that turns HTTP requests into events.</p>
        )}
        {trigger.webhook_config && Object.keys(trigger.webhook_config).length > 0 && (
          <p className="text-xs text-slate-500">
            Checks: {Object.entries(trigger.webhook_config).filter(([, v]) => (v as { enabled?: boolean })?.enabled).map(([k]) => <Badge key={k}>{k}</Badge>)}
          </p>
        )}
        <div className="flex flex-wrap gap-2">
          {trigger.webhook_enabled ? (
            <>
              <Button disabled={busy} onClick={() => act("regenerate")}>
                Regenerate key
              </Button>
              <Button variant="danger" disabled={busy} onClick={() => act("disable")}>
                Disable webhook
              </Button>
            </>
          ) : (
            <Button variant="primary" disabled={busy} onClick={() => act("enable")}>
              Enable webhook
            </Button>
          )}
        </div>
        {error && <ErrorState error={error} />}
      </div>
    </Card>
  );
}

interface RelatedRow {
  id: number;
  ref: string;
  enabled: boolean;
  action_ref?: string;
  description?: string | null;
}

function Related({ kind, trigger }: { kind: "rules" | "sensors"; trigger: string }) {
  const list = useAllRows<RelatedRow>([kind, "trigger", trigger], `/api/v1/triggers/${encodeURIComponent(trigger)}/${kind}`);
  const title = kind === "rules" ? "Rules on this trigger" : "Sensors reporting this trigger";
  return (
    <Card title={title}>
      {list.isPending ? (
        <p role="status" className="text-sm text-slate-500">Loading…</p>
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label={title}
          rows={list.rows}
          rowKey={(r) => r.id}
          rowHref={(r) => `/${kind}/${encodeURIComponent(r.ref)}`}
          maxHeight="18rem"
          empty={<Empty title={kind === "rules" ? "No rule uses this trigger." : "No sensor reports this trigger."} />}
          columns={[
            { key: "ref", header: kind === "rules" ? "Rule" : "Sensor", cell: (r) => <span className="font-medium">{r.ref}</span> },
            { key: "detail", header: kind === "rules" ? "Action" : "Description", cell: (r) => r.action_ref ?? r.description },
            { key: "state", header: "State", width: "7rem", cell: (r) => <StatusBadge status={r.enabled ? "enabled" : "disabled"} /> },
          ]}
        />
      )}
    </Card>
  );
}
