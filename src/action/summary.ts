// The step summary: GitHub accepts at most 1 MiB per step; a longer report is cut on a line
// boundary with a pointer to the report file.
import { fitComment } from '../github/pr-comment.js';

export const MAX_SUMMARY_BYTES = 1024 * 1024;

export function fitSummary(markdown: string, reportPath: string, maxBytes = MAX_SUMMARY_BYTES - 16 * 1024): string {
  if (Buffer.byteLength(markdown) <= maxBytes) return markdown;
  let budget = Math.min(markdown.length, maxBytes);
  for (;;) {
    const { body } = fitComment(
      markdown,
      (shown, total) => `**The report is cut here (${shown} of ${total} characters).** The whole report is in \`${reportPath}\` (the \`report\` output).`,
      budget,
    );
    if (Buffer.byteLength(body) <= maxBytes) return body;
    budget = Math.floor(budget * 0.8);
  }
}

/** The marker is for finding the comment; the summary does not need it. */
export function withoutMarker(markdown: string, marker: string): string {
  return markdown.startsWith(marker) ? markdown.slice(marker.length).replace(/^\n/, '') : markdown;
}
