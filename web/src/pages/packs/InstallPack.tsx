// Install a pack from a source the server fetches (git URL, archive URL, server path) or from
// a .tar.gz uploaded from this browser (multipart field `pack`).
import { useState } from "react";
import { useNavigate } from "react-router";
import { ApiError, authFetch, type Schemas } from "@/api/client";
import { ErrorState } from "@/components/states";
import { Button, Field, Input } from "@/components/ui";
import { Tabs, errorText, send, useInvalidate } from "@/components/catalog";

type Result = Schemas["PackInstallResult"];

export function InstallPack() {
  const navigate = useNavigate();
  const invalidate = useInvalidate();
  const [source, setSource] = useState("");
  const [refSpec, setRefSpec] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [force, setForce] = useState(false);
  const [skipTests, setSkipTests] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const finish = async (result: Result) => {
    await invalidate("packs", "actions", "triggers", "sensors", "rules");
    navigate(`/packs/${encodeURIComponent(result.pack.ref)}`);
  };
  const run = async (work: () => Promise<Result>) => {
    setBusy(true);
    setError(null);
    try {
      await finish(await work());
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const options = (
    <div className="flex flex-wrap gap-4 text-sm">
      <label className="inline-flex items-center gap-1.5">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Replace an installed pack (force)
      </label>
      <label className="inline-flex items-center gap-1.5">
        <input type="checkbox" checked={skipTests} onChange={(e) => setSkipTests(e.target.checked)} /> Skip pack tests
      </label>
    </div>
  );
  return (
    <Tabs
      param="source"
      tabs={[
        { id: "url", label: "From a URL" },
        { id: "upload", label: "Upload .tar.gz" },
      ]}
    >
      {(tab) =>
        tab === "url" ? (
          <form
            className="space-y-3"
            onSubmit={(e) => {
              e.preventDefault();
              void run(() =>
                send<Result>("/api/v1/packs/install", {
                  source,
                  ref_spec: refSpec || null,
                  force,
                  skip_tests: skipTests,
                }),
              );
            }}
          >
            <Field label="Source" htmlFor="install-source" required hint="A git URL, an archive URL (.tar.gz/.zip) or a directory on the server.">
              <Input id="install-source" required value={source} onChange={(e) => setSource(e.target.value)} placeholder="https://github.com/org/pack.git" />
            </Field>
            <Field label="Git ref" htmlFor="install-ref" hint="Branch, tag or commit (git sources only).">
              <Input id="install-ref" value={refSpec} onChange={(e) => setRefSpec(e.target.value)} />
            </Field>
            {options}
            {error && <ErrorState error={error} />}
            <div className="flex justify-end">
              <Button type="submit" variant="primary" disabled={busy || !source}>
                {busy ? "Installing…" : "Install"}
              </Button>
            </div>
          </form>
        ) : (
          <form
            className="space-y-3"
            onSubmit={(e) => {
              e.preventDefault();
              if (!file) return;
              void run(async () => {
                const body = new FormData();
                body.set("pack", file);
                body.set("force", String(force));
                body.set("skip_tests", String(skipTests));
                const response = await authFetch("/api/v1/packs/upload", { method: "POST", body });
                const payload = await response.json().catch(() => ({}));
                if (!response.ok) throw new ApiError(response.status, payload.error ?? response.statusText, payload.code);
                return payload.data as Result;
              });
            }}
          >
            <Field label="Pack archive" htmlFor="install-file" required hint="A .tar.gz whose root (or single top directory) holds pack.yaml.">
              <Input id="install-file" type="file" accept=".tar.gz,.tgz,application/gzip" required onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
            </Field>
            {options}
            {error && <ErrorState error={error} />}
            <div className="flex justify-end">
              <Button type="submit" variant="primary" disabled={busy || !file}>
                {busy ? "Uploading…" : "Upload and install"}
              </Button>
            </div>
          </form>
        )
      }
    </Tabs>
  );
}
