// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function ArtifactDetail() {
  return <PageHeader title="ArtifactDetail" subtitle="This page is being built." />;
}
