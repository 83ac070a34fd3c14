// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function KeyList() {
  return <PageHeader title="KeyList" subtitle="This page is being built." />;
}
