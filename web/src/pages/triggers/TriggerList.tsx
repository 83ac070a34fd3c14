// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function TriggerList() {
  return <PageHeader title="TriggerList" subtitle="This page is being built." />;
}
