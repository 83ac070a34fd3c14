/** Why a password change cannot be sent yet, or null (the server enforces 8..128 too). */
export function passwordProblem(current: string, next: string, confirm: string): string | null {
  if (!current) return "Enter your current password.";
  if (next.length < 8 || next.length > 128) return "The new password must be 8 to 128 characters.";
  if (next !== confirm) return "The two new passwords differ.";
  if (next === current) return "The new password is the same as the current one.";
  return null;
}
