// The text of a log followed over SSE: each chunk says where it starts (`offset`, characters
// from the start of the log). A chunk at the end is appended; one that starts earlier (the
// browser reconnected and the server sent the log again from the start) replaces what follows
// its offset, so nothing is shown twice.
export function appendChunk(text: string, offset: number, content: string): string {
  if (offset >= text.length) return text + content;
  return text.slice(0, offset) + content;
}
