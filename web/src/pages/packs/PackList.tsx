// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function PackList() {
  return <PageHeader title="PackList" subtitle="This page is being built." />;
}
