// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function Dashboard() {
  return <PageHeader title="Dashboard" subtitle="This page is being built." />;
}
