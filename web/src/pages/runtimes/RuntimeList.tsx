// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function RuntimeList() {
  return <PageHeader title="RuntimeList" subtitle="This page is being built." />;
}
