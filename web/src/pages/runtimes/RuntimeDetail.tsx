// One runtime: its description, versions (found on this host or not, the default), and the
// configuration the worker uses to run and prepare environments (interpreter, dependencies).
import { useQuery } from "@tanstack/react-query";
import { CheckCircle2, XCircle } from "lucide-react";
import { Link, useParams } from "react-router";
import { api, unwrap } from "@/api/client";
import { JsonView } from "@/components/JsonView";
import { Empty, QueryState } from "@/components/states";
import { Badge, Card, PageHeader, Properties } from "@/components/ui";
import { dateTime, relativeTime } from "@/lib/format";
import { availabilitySummary, sortVersions } from "./versions";

export default function RuntimeDetail() {
  const { ref = "" } = useParams();
  const query = useQuery({
    queryKey: ["runtimes", ref],
    queryFn: () => unwrap(api.GET("/api/v1/runtimes/{ref}", { params: { path: { ref } } })).then((r) => r.data),
  });
  return (
    <QueryState query={query}>
      {(runtime) => {
        const env = (runtime.execution_config as { environment?: unknown }).environment;
        return (
          <div className="space-y-4">
            <PageHeader
              title={runtime.name}
              subtitle={<span className="font-mono">{runtime.ref}</span>}
              actions={<Link to="/runtimes" className="text-sm text-indigo-600 underline">All runtimes</Link>}
            />
            <Card title="Runtime">
              <Properties
                items={[
                  ["Description", runtime.description ?? "—"],
                  ["Pack", runtime.pack_ref ? <Link className="text-indigo-600 underline" to={`/packs/${runtime.pack_ref}`}>{runtime.pack_ref}</Link> : "—"],
                  ["Versions", availabilitySummary(runtime.versions)],
                  ["Pack environments", env ? <code className="font-mono text-xs">{JSON.stringify(env)}</code> : "none (runs without a per-pack environment)"],
                  ["Created", dateTime(runtime.created)],
                  ["Updated", dateTime(runtime.updated)],
                ]}
              />
            </Card>
            <Card title={`Versions (${runtime.versions.length})`}>
              {runtime.versions.length === 0 ? (
                <Empty title="No versions declared.">
                  <p>The runtime runs whatever its interpreter is on the worker's host.</p>
                </Empty>
              ) : (
                <table className="w-full text-left text-sm" aria-label="Runtime versions">
                  <thead className="text-xs uppercase text-slate-500">
                    <tr>
                      <th className="py-1 pr-4">Version</th>
                      <th className="py-1 pr-4">Available</th>
                      <th className="py-1 pr-4">Default</th>
                      <th className="py-1 pr-4">Verified</th>
                      <th className="py-1">Interpreter</th>
                    </tr>
                  </thead>
                  <tbody>
                    {sortVersions(runtime.versions).map((v) => {
                      const interpreter = (v.execution_config as { interpreter?: { binary?: string } }).interpreter?.binary;
                      return (
                        <tr key={v.id} className="border-t border-slate-100 dark:border-slate-800">
                          <td className="py-1.5 pr-4 font-mono">{v.version}</td>
                          <td className="py-1.5 pr-4">
                            {v.available ? (
                              <span className="flex items-center gap-1 text-green-700 dark:text-green-400"><CheckCircle2 className="h-4 w-4" aria-hidden /> available</span>
                            ) : (
                              <span className="flex items-center gap-1 text-slate-500"><XCircle className="h-4 w-4" aria-hidden /> not found</span>
                            )}
                          </td>
                          <td className="py-1.5 pr-4">{v.is_default ? <Badge tone="blue">default</Badge> : ""}</td>
                          <td className="py-1.5 pr-4" title={v.verified_at ?? ""}>{v.verified_at ? relativeTime(v.verified_at) : "never"}</td>
                          <td className="py-1.5 font-mono text-xs">{interpreter ?? "—"}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              )}
            </Card>
            <div className="grid gap-4 lg:grid-cols-2">
              <Card title="Execution configuration">
                <JsonView value={runtime.execution_config} label="Execution configuration" />
              </Card>
              <Card title="Detection and installation">
                <JsonView value={{ distributions: runtime.distributions, installation: runtime.installation }} label="Distributions and installation" />
              </Card>
            </div>
          </div>
        );
      }}
    </QueryState>
  );
}
