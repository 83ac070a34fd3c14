// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function WorkerList() {
  return <PageHeader title="WorkerList" subtitle="This page is being built." />;
}
