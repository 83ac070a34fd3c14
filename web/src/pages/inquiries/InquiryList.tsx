// Placeholder until this page lands (see web/README.md: page ownership).
import { PageHeader } from "@/components/ui";

export default function InquiryList() {
  return <PageHeader title="InquiryList" subtitle="This page is being built." />;
}
