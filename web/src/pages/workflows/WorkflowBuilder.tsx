// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function WorkflowBuilder() {
  return <PageHeader title="WorkflowBuilder" subtitle="This page is being built." />;
}
