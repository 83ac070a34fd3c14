// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function InquiryDetail() {
  return <PageHeader title="InquiryDetail" subtitle="This page is being built." />;
}
