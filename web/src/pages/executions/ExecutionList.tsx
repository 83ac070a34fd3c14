// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function ExecutionList() {
  return <PageHeader title="ExecutionList" subtitle="This page is being built." />;
}
