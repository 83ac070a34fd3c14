// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function SensorList() {
  return <PageHeader title="SensorList" subtitle="This page is being built." />;
}
