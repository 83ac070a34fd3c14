// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function EnforcementDetail() {
  return <PageHeader title="EnforcementDetail" subtitle="This page is being built." />;
}
