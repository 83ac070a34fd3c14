// One inquiry: the question, who may answer and until when, the execution that asked, and a
// response form generated from response_schema (free JSON when there is none).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { type Schemas, api, unwrap } from "@/api/client";
import { SchemaForm, type Values } from "@/components/SchemaForm";
import { parseSchema, validateValues } from "@/components/schemaFields";
import { ErrorState, QueryState } from "@/components/states";
import { Button, Card, PageHeader, Properties, StatusBadge, TextArea } from "@/components/ui";
import { Json, RefLink, errorText, send, useInvalidate } from "@/components/catalog";
import { useAuth } from "@/lib/auth";
import { dateTime, relativeTime } from "@/lib/format";

type Inquiry = Schemas["Inquiry"];

export default function InquiryDetail() {
  const id = Number(useParams().id);
  const query = useQuery({
    queryKey: ["inquiries", id],
    queryFn: () => unwrap(api.GET("/api/v1/inquiries/{id}", { params: { path: { id } } })).then((b) => b.data),
  });
  return (
    <QueryState query={query}>
      {(inquiry) => (
        <div className="space-y-4">
          <PageHeader title={`Inquiry #${inquiry.id}`} subtitle={inquiry.prompt} actions={<StatusBadge status={inquiry.status} />} />
          <div className="grid gap-4 xl:grid-cols-2">
            <Card title="Question">
              <p className="mb-4 whitespace-pre-wrap text-base">{inquiry.prompt}</p>
              <Properties
                items={[
                  ["Status", <StatusBadge status={inquiry.status} />],
                  ["Who may answer", <Assignee id={inquiry.assigned_to} />],
                  ["Times out", inquiry.timeout_at ? `${dateTime(inquiry.timeout_at)}${inquiry.status === "pending" ? ` (${untilText(inquiry.timeout_at)})` : ""}` : "never"],
                  ["Asked by", <RefLink to={`/executions/${inquiry.execution}`}>execution #{inquiry.execution}</RefLink>],
                  ["Asked", `${dateTime(inquiry.created)} (${relativeTime(inquiry.created)})`],
                  ["Answered", inquiry.responded_at ? dateTime(inquiry.responded_at) : "—"],
                ]}
              />
            </Card>
            {inquiry.status === "pending" ? (
              <Respond inquiry={inquiry} />
            ) : (
              <Card title="Response">
                {inquiry.response !== null && inquiry.response !== undefined ? <Json value={inquiry.response} /> : <p className="text-sm text-slate-500">No response ({inquiry.status}).</p>}
              </Card>
            )}
          </div>
        </div>
      )}
    </QueryState>
  );
}

function untilText(iso: string): string {
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  if (seconds <= 0) return "overdue";
  if (seconds < 60) return `in ${seconds} s`;
  if (seconds < 3600) return `in ${Math.floor(seconds / 60)} min`;
  return `in ${Math.floor(seconds / 3600)} h`;
}

function Assignee({ id }: { id: number | null | undefined }) {
  const me = useAuth((s) => s.user);
  const identity = useQuery({
    queryKey: ["identities", id],
    enabled: id !== null && id !== undefined && id !== me?.id,
    retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/identities/{id}", { params: { path: { id: id! } } })).then((b) => b.data),
  });
  if (id === null || id === undefined) return <>anyone signed in</>;
  if (id === me?.id) return <>you ({me.login})</>;
  if (identity.data) return <>{identity.data.display_name ? `${identity.data.display_name} (${identity.data.login})` : identity.data.login}</>;
  return <>identity #{id}</>;
}

function Respond({ inquiry }: { inquiry: Inquiry }) {
  const invalidate = useInvalidate();
  const schema = inquiry.response_schema ?? {};
  const hasFields = parseSchema(schema).length > 0;
  const [value, setValue] = useState<Values>({});
  const [text, setText] = useState("{}");
  const [showErrors, setShowErrors] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    let response: unknown;
    if (hasFields) {
      if (Object.keys(validateValues(schema, value)).length > 0) {
        setShowErrors(true);
        return;
      }
      response = value;
    } else {
      try {
        response = JSON.parse(text);
      } catch (e) {
        setError(`The response is not valid JSON: ${errorText(e)}`);
        return;
      }
    }
    setBusy(true);
    setError(null);
    try {
      await send(`/api/v1/inquiries/${inquiry.id}/respond`, { response });
      await invalidate("inquiries", "executions");
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Respond">
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {hasFields ? (
          <SchemaForm schema={schema} value={value} showErrors={showErrors} onChange={(v) => setValue(v)} />
        ) : (
          <>
            <label htmlFor="inquiry-response" className="block text-sm font-medium">
              Response (JSON)
            </label>
            <TextArea id="inquiry-response" rows={5} value={text} onChange={(e) => setText(e.target.value)} />
          </>
        )}
        {error && <ErrorState error={error} />}
        <div className="flex justify-end">
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? "Sending…" : "Send response"}
          </Button>
        </div>
      </form>
    </Card>
  );
}
