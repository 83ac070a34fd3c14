// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function Profile() {
  return <PageHeader title="Profile" subtitle="This page is being built." />;
}
