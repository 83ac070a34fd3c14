// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function EventDetail() {
  return <PageHeader title="EventDetail" subtitle="This page is being built." />;
}
