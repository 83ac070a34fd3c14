export interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}
export function initialChunks(
  manifest: Record<string, ManifestChunk>,
  entry?: string,
): (ManifestChunk & { key: string })[];
export function measure(
  chunks: { file: string }[],
  dist: string,
): { file: string; bytes: number; gzip: number }[];
