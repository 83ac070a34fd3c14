// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function ArtifactList() {
  return <PageHeader title="ArtifactList" subtitle="This page is being built." />;
}
