// One artifact: its properties, data (progress entries, JSON), versions with downloads,
// uploading a new version, deleting a version or the artifact.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Download, Trash2, Upload } from "lucide-react";
import { type FormEvent, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, type Schemas, unwrap } from "@/api/client";
import { useInfiniteList } from "@/api/lists";
import { ConfirmDialog, errorText } from "@/components/Confirm";
import { JsonView } from "@/components/JsonView";
import { Empty, ErrorState, Loading, QueryState } from "@/components/states";
import { Badge, Button, Card, Field, Input, PageHeader, Properties } from "@/components/ui";
import { dateTime, relativeTime } from "@/lib/format";
import { byteSize, download, uploadVersion } from "./files";

type Version = Schemas["ArtifactVersion"];

function DownloadButton({ path, name, label }: { path: string; name: string; label: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        size="sm"
        aria-label={label}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await download(path, name);
          } catch (e) {
            setError(errorText(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Download className="h-3.5 w-3.5" aria-hidden /> {busy ? "Downloading…" : "Download"}
      </Button>
      {error && <span role="alert" className="text-xs text-red-600">{error}</span>}
    </span>
  );
}

function UploadForm({ artifactId }: { artifactId: number }) {
  const client = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [contentType, setContentType] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const upload = useMutation({
    mutationFn: (file: File) => uploadVersion(artifactId, file, contentType || undefined),
    onSuccess: async (_data, file) => {
      setDone(`Uploaded ${file.name} as a new version.`);
      if (input.current) input.current.value = "";
      await client.invalidateQueries({ queryKey: ["artifacts"] });
    },
  });
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        setDone(null);
        const file = input.current?.files?.[0];
        if (file) upload.mutate(file);
      }}
    >
      <Field label="File" htmlFor="version-file">
        <input id="version-file" ref={input} type="file" required className="text-sm" />
      </Field>
      <div className="w-56">
        <Field label="Content type (optional)" htmlFor="version-content-type">
          <Input id="version-content-type" placeholder="from the file" value={contentType} onChange={(e) => setContentType(e.target.value)} />
        </Field>
      </div>
      <Button type="submit" variant="primary" disabled={upload.isPending}>
        <Upload className="h-4 w-4" aria-hidden /> {upload.isPending ? "Uploading…" : "Upload new version"}
      </Button>
      {upload.error && <p role="alert" className="w-full text-sm text-red-600">{errorText(upload.error)}</p>}
      {done && <p role="status" className="w-full text-sm text-green-700 dark:text-green-400">{done}</p>}
    </form>
  );
}

export default function ArtifactDetail() {
  const id = Number(useParams().id);
  const navigate = useNavigate();
  const client = useQueryClient();
  const [deleteVersion, setDeleteVersion] = useState<number | null>(null);
  const [deleteArtifact, setDeleteArtifact] = useState(false);
  const query = useQuery({
    queryKey: ["artifacts", id],
    queryFn: () => unwrap(api.GET("/api/v1/artifacts/{id}", { params: { path: { id } } })).then((r) => r.data),
    enabled: Number.isInteger(id),
  });
  const versions = useInfiniteList<Version>(["artifacts", id, "versions"], `/api/v1/artifacts/${id}/versions`);
  if (!Number.isInteger(id)) return <ErrorState error={new Error("Not an artifact id.")} />;

  return (
    <QueryState query={query}>
      {(artifact) => (
        <div className="space-y-4">
          <PageHeader
            title={artifact.name || artifact.ref}
            subtitle={<span className="font-mono">{artifact.ref} · #{artifact.id}</span>}
            actions={
              <>
                <Link to="/artifacts" className="text-sm text-indigo-600 underline">All artifacts</Link>
                {(versions.rows.length > 0 || artifact.size_bytes) && (
                  <DownloadButton path={`/api/v1/artifacts/${id}/download`} name={artifact.ref} label="Download the newest version" />
                )}
                <Button variant="danger" onClick={() => setDeleteArtifact(true)}>
                  <Trash2 className="h-4 w-4" aria-hidden /> Delete
                </Button>
              </>
            }
          />
          <Card title="Artifact">
            <Properties
              items={[
                ["Type", <Badge>{artifact.type}</Badge>],
                ["Scope / owner", `${artifact.scope}${artifact.owner ? ` ${artifact.owner}` : ""}`],
                ["Description", artifact.description ?? "—"],
                ["Content type", artifact.content_type ?? "—"],
                ["Size", byteSize(artifact.size_bytes)],
                ["Execution", artifact.execution ? <Link className="text-indigo-600 underline" to={`/executions/${artifact.execution}`}>#{artifact.execution}</Link> : "—"],
                ["Retention", `${artifact.retention_limit} ${artifact.retention_policy}`],
                ["Created", dateTime(artifact.created)],
                ["Updated", dateTime(artifact.updated)],
              ]}
            />
          </Card>
          {artifact.data !== null && artifact.data !== undefined && (
            <Card title={artifact.type === "progress" ? "Progress" : "Data"}>
              <JsonView value={artifact.data} label="Artifact data" />
            </Card>
          )}
          <Card title="Upload a new version">
            <UploadForm artifactId={artifact.id} />
          </Card>
          <Card title={`Versions${versions.data ? ` (${versions.data.pages[0]?.pagination.total_items ?? versions.rows.length})` : ""}`}>
            {versions.isPending ? (
              <Loading />
            ) : versions.error ? (
              <ErrorState error={versions.error} retry={() => versions.refetch()} />
            ) : versions.rows.length === 0 ? (
              <Empty title="No versions yet.">
                <p>Upload a file above, or let an action add one.</p>
              </Empty>
            ) : (
              <table className="w-full text-left text-sm" aria-label="Versions">
                <thead className="text-xs uppercase text-slate-500">
                  <tr>
                    <th className="py-1 pr-4">Version</th>
                    <th className="py-1 pr-4">File</th>
                    <th className="py-1 pr-4">Content type</th>
                    <th className="py-1 pr-4">Size</th>
                    <th className="py-1 pr-4">Created</th>
                    <th className="py-1"><span className="sr-only">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  {versions.rows.map((v) => {
                    const filename = typeof v.meta?.filename === "string" ? v.meta.filename : null;
                    return (
                      <tr key={v.id} className="border-t border-slate-100 dark:border-slate-800">
                        <td className="py-1.5 pr-4 font-mono">v{v.version}</td>
                        <td className="py-1.5 pr-4">{filename ?? (v.content_json !== null ? "JSON" : "—")}</td>
                        <td className="py-1.5 pr-4">{v.content_type ?? "—"}</td>
                        <td className="py-1.5 pr-4">{byteSize(v.size_bytes)}</td>
                        <td className="py-1.5 pr-4" title={v.created}>{relativeTime(v.created)}{v.created_by ? ` by ${v.created_by}` : ""}</td>
                        <td className="flex justify-end gap-1 py-1.5">
                          <DownloadButton path={`/api/v1/artifacts/${id}/versions/${v.version}/download`} name={filename ?? `${artifact.ref}.v${v.version}`} label={`Download version ${v.version}`} />
                          <Button size="sm" variant="ghost" aria-label={`Delete version ${v.version}`} onClick={() => setDeleteVersion(v.version)}>
                            <Trash2 className="h-3.5 w-3.5 text-red-600" aria-hidden />
                          </Button>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
            {versions.hasNextPage && (
              <Button className="mt-2" onClick={() => void versions.fetchNextPage()} disabled={versions.isFetchingNextPage}>
                Load older versions
              </Button>
            )}
          </Card>
          <ConfirmDialog
            open={deleteVersion !== null}
            title="Delete version"
            confirmLabel="Delete version"
            onClose={() => setDeleteVersion(null)}
            onConfirm={async () => {
              await unwrap(api.DELETE("/api/v1/artifacts/{id}/versions/{version}", { params: { path: { id, version: deleteVersion! } } }));
              await client.invalidateQueries({ queryKey: ["artifacts"] });
            }}
          >
            Delete version {deleteVersion} of <code className="font-mono">{artifact.ref}</code>? Its content is removed.
          </ConfirmDialog>
          <ConfirmDialog
            open={deleteArtifact}
            title="Delete artifact"
            confirmLabel="Delete artifact"
            onClose={() => setDeleteArtifact(false)}
            onConfirm={async () => {
              await unwrap(api.DELETE("/api/v1/artifacts/{id}", { params: { path: { id } } }));
              client.removeQueries({ queryKey: ["artifacts", id] });
              await client.invalidateQueries({ queryKey: ["artifacts"] });
              navigate("/artifacts");
            }}
          >
            Delete <code className="font-mono">{artifact.ref}</code> and all its versions?
          </ConfirmDialog>
        </div>
      )}
    </QueryState>
  );
}
