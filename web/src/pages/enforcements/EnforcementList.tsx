// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function EnforcementList() {
  return <PageHeader title="EnforcementList" subtitle="This page is being built." />;
}
