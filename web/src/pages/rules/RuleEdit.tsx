// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function RuleEdit() {
  return <PageHeader title="RuleEdit" subtitle="This page is being built." />;
}
