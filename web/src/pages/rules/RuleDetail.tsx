// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function RuleDetail() {
  return <PageHeader title="RuleDetail" subtitle="This page is being built." />;
}
