// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function AccessControl() {
  return <PageHeader title="AccessControl" subtitle="This page is being built." />;
}
