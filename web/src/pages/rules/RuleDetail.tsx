// One rule: trigger, conditions, action and its parameters; enable/disable, edit, delete, and
// links to the enforcements and executions it produced.
import { useQuery } from "@tanstack/react-query";
import { Pencil } from "lucide-react";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "@/api/client";
import { QueryState } from "@/components/states";
import { Card, PageHeader, Properties } from "@/components/ui";
import { DeleteButton, EnableToggle, Json, RefLink, send, useInvalidate } from "@/components/catalog";
import { dateTime } from "@/lib/format";
import { fromConditions } from "./conditions";

export default function RuleDetail() {
  const ref = useParams().ref!;
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const query = useQuery({
    queryKey: ["rules", ref],
    queryFn: () => unwrap(api.GET("/api/v1/rules/{ref}", { params: { path: { ref } } })).then((b) => b.data),
  });
  return (
    <QueryState query={query}>
      {(rule) => {
        const conditions = fromConditions(rule.conditions);
        return (
          <div className="space-y-4">
            <PageHeader
              title={rule.ref}
              subtitle={rule.description || rule.label}
              actions={
                <>
                  <EnableToggle enabled={rule.enabled} base={`/api/v1/rules/${encodeURIComponent(rule.ref)}`} label={`Rule ${rule.ref}`} invalidate={["rules"]} />
                  <DeleteButton
                    what={`rule ${rule.ref}`}
                    onDelete={async () => {
                      await send(`/api/v1/rules/${encodeURIComponent(rule.ref)}`, undefined, "DELETE");
                      await invalidate("rules");
                      navigate("/rules");
                    }}
                  />
                  <Link
                    to={`/rules/${encodeURIComponent(rule.ref)}/edit`}
                    className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
                  >
                    <Pencil className="h-4 w-4" aria-hidden /> Edit
                  </Link>
                </>
              }
            />
            <div className="grid gap-4 xl:grid-cols-2">
              <Card title="When">
                <Properties
                  items={[
                    ["Trigger", <RefLink to={`/triggers/${encodeURIComponent(rule.trigger_ref)}`}>{rule.trigger_ref}</RefLink>],
                    [
                      "Conditions",
                      conditions.mode === "none" ? (
                        "every event"
                      ) : conditions.mode === "expression" ? (
                        <code className="break-all text-xs">{conditions.expression}</code>
                      ) : (
                        <ul className="space-y-0.5">
                          {conditions.criteria.map((c, i) => (
                            <li key={i} className="font-mono text-xs">
                              {c.field} <span className="text-indigo-600 dark:text-indigo-300">{c.operator}</span> {c.value}
                            </li>
                          ))}
                        </ul>
                      ),
                    ],
                  ]}
                />
                {Object.keys(rule.trigger_params ?? {}).length > 0 && (
                  <div className="mt-3">
                    <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Trigger parameters</h3>
                    <Json value={rule.trigger_params} />
                  </div>
                )}
              </Card>
              <Card title="Then">
                <Properties items={[["Action", <RefLink to={`/actions/${encodeURIComponent(rule.action_ref)}`}>{rule.action_ref}</RefLink>]]} />
                <div className="mt-3">
                  <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Action parameters</h3>
                  {Object.keys(rule.action_params ?? {}).length > 0 ? <Json value={rule.action_params} /> : <p className="text-sm text-slate-500">None.</p>}
                </div>
              </Card>
            </div>
            <Card title="About">
              <Properties
                items={[
                  ["Pack", <RefLink to={`/packs/${encodeURIComponent(rule.pack_ref)}`}>{rule.pack_ref}</RefLink>],
                  ["Label", rule.label],
                  ["Created", dateTime(rule.created)],
                  ["Updated", dateTime(rule.updated)],
                  [
                    "Activity",
                    <span className="flex gap-3">
                      <RefLink to={`/enforcements?rule_ref=${encodeURIComponent(rule.ref)}`}>Enforcements</RefLink>
                      <RefLink to={`/executions?rule_ref=${encodeURIComponent(rule.ref)}`}>Executions</RefLink>
                      <RefLink to={`/events?rule_ref=${encodeURIComponent(rule.ref)}`}>Events</RefLink>
                    </span>,
                  ],
                ]}
              />
            </Card>
          </div>
        );
      }}
    </QueryState>
  );
}

