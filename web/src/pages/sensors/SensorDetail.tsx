// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function SensorDetail() {
  return <PageHeader title="SensorDetail" subtitle="This page is being built." />;
}
