// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function EventList() {
  return <PageHeader title="EventList" subtitle="This page is being built." />;
}
