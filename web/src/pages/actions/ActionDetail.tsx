// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function ActionDetail() {
  return <PageHeader title="ActionDetail" subtitle="This page is being built." />;
}
