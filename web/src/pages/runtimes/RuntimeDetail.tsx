// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function RuntimeDetail() {
  return <PageHeader title="RuntimeDetail" subtitle="This page is being built." />;
}
