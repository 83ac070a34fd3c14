// Create a trigger type: pack, name, label, description, the parameters rules set and the
// payload its events carry (both as JSON schemas), optionally with its webhook enabled.
import { useState } from "react";
import { useNavigate } from "react-router";
import type { Schemas } from "@/api/client";
import { ErrorState } from "@/components/states";
import { Button, Card, Field, Input, PageHeader, Select, TextArea } from "@/components/ui";
import { errorText, send, useAllRows, useInvalidate } from "@/components/catalog";

type Pack = Schemas["Pack"];
type Trigger = Schemas["Trigger"];

function parseObject(name: string, text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${errorText(e)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${name} must be a JSON object`);
  return value as Record<string, unknown>;
}

export default function TriggerCreate() {
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const packs = useAllRows<Pack>(["packs"], "/api/v1/packs");
  const [packRef, setPackRef] = useState("");
  const [name, setName] = useState("");
  const [label, setLabel] = useState("");
  const [description, setDescription] = useState("");
  const [paramSchema, setParamSchema] = useState("");
  const [outSchema, setOutSchema] = useState("");
  const [webhook, setWebhook] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setError(null);
    try {
      if (!packRef) throw new Error("Choose a pack.");
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new Error("Give the trigger a name (letters, digits, _ . -).");
      const param_schema = parseObject("Parameters schema", paramSchema);
      const out_schema = parseObject("Payload schema", outSchema);
      setBusy(true);
      const ref = `${packRef}.${name}`;
      const trigger = await send<Trigger>("/api/v1/triggers", {
        ref,
        pack_ref: packRef,
        label: label || name,
        description: description || null,
        param_schema,
        out_schema,
      });
      if (webhook) await send(`/api/v1/triggers/${encodeURIComponent(trigger.ref)}/webhooks/enable`, {});
      await invalidate("triggers");
      navigate(`/triggers/${encodeURIComponent(trigger.ref)}`);
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };

  return (
    <form
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <PageHeader
        title="New trigger"
        actions={
          <>
            <Button onClick={() => navigate("/triggers")}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={busy}>
              Create trigger
            </Button>
          </>
        }
      />
      <Card>
        <div className="grid gap-4 lg:grid-cols-2">
          <div className="space-y-3">
            <div className="grid grid-cols-2 gap-3">
              <Field label="Pack" htmlFor="trigger-pack" required>
                <Select id="trigger-pack" value={packRef} onChange={(e) => setPackRef(e.target.value)}>
                  <option value="">{packs.isPending ? "Loading…" : "— choose —"}</option>
                  {packs.rows.map((p) => (
                    <option key={p.ref} value={p.ref}>
                      {p.ref}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field label="Name" htmlFor="trigger-name" required hint={packRef && name ? `Ref: ${packRef}.${name}` : undefined}>
                <Input id="trigger-name" value={name} onChange={(e) => setName(e.target.value.trim())} />
              </Field>
            </div>
            <Field label="Label" htmlFor="trigger-label">
              <Input id="trigger-label" value={label} placeholder={name} onChange={(e) => setLabel(e.target.value)} />
            </Field>
            <Field label="Description" htmlFor="trigger-description">
              <TextArea id="trigger-description" className="font-sans" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
            </Field>
            <label className="inline-flex items-center gap-2 text-sm">
              <input type="checkbox" checked={webhook} onChange={(e) => setWebhook(e.target.checked)} /> Enable its webhook
            </label>
          </div>
          <div className="space-y-3">
            <Field label="Parameters schema" htmlFor="trigger-params" hint='What each rule sets, e.g. {"threshold": {"type": "integer"}}.'>
              <TextArea id="trigger-params" rows={5} spellCheck={false} value={paramSchema} onChange={(e) => setParamSchema(e.target.value)} />
            </Field>
            <Field label="Payload schema" htmlFor="trigger-out" hint='What events carry, e.g. {"host": {"type": "string"}}.'>
              <TextArea id="trigger-out" rows={5} spellCheck={false} value={outSchema} onChange={(e) => setOutSchema(e.target.value)} />
            </Field>
          </div>
        </div>
      </Card>
      {error && <ErrorState error={error} />}
    </form>
  );
}
