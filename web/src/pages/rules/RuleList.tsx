// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function RuleList() {
  return <PageHeader title="RuleList" subtitle="This page is being built." />;
}
