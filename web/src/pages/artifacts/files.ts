// Artifact downloads: fetched with the session's token (a plain link could not send it), then
// saved from a blob URL under the server's file name.
import { ApiError, authFetch } from "@/api/client";

/** The file name of a Content-Disposition header (filename* first), or `fallback`. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ""));
    } catch {
      /* fall through to filename= */
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(disposition);
  const name = plain ? (plain[2] ?? plain[1]).trim() : "";
  return name || fallback;
}

/** "512 B", "1.5 KB", "3.2 MB". */
export function byteSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** Download `path` with the session's token and hand it to the browser as a file. */
export async function download(path: string, fallbackName: string): Promise<string> {
  const response = await authFetch(path);
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.error ?? `${response.status} ${response.statusText}`, body.code);
  }
  const name = fileNameOf(response.headers.get("Content-Disposition"), fallbackName);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

/** Upload `file` as a new version (multipart field "file"). */
export async function uploadVersion(artifactId: number, file: File, contentType?: string): Promise<unknown> {
  const form = new FormData();
  form.append("file", file, file.name);
  if (contentType) form.append("content_type", contentType);
  const response = await authFetch(`/api/v1/artifacts/${artifactId}/versions/upload`, { method: "POST", body: form });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error ?? `${response.status} ${response.statusText}`, body.code);
  return body.data;
}
