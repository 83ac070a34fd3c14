// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function PackDetail() {
  return <PageHeader title="PackDetail" subtitle="This page is being built." />;
}
