// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function ActionList() {
  return <PageHeader title="ActionList" subtitle="This page is being built." />;
}
