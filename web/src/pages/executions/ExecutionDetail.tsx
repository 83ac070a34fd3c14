// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function ExecutionDetail() {
  return <PageHeader title="ExecutionDetail" subtitle="This page is being built." />;
}
