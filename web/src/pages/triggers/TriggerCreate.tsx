// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function TriggerCreate() {
  return <PageHeader title="TriggerCreate" subtitle="This page is being built." />;
}
