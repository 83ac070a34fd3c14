// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function TriggerDetail() {
  return <PageHeader title="TriggerDetail" subtitle="This page is being built." />;
}
