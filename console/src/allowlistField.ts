// The IP allowlist textarea, one entry a line, checked as the person types: each line that is
// not an address or CIDR range is named by its number, as the editor shows it. The entries go
// out as the gateway stores them (trimmed, empty lines and repeats left out), so the count
// of at most 50 is the gateway's count too.
import { ApiProblem } from './api.js';
import { entryProblem, type EntryProblem } from './ipEntry.js';

export const MAX_ALLOWLIST_ENTRIES = 50;

export interface AllowlistFields {
  textarea: HTMLTextAreaElement;
  /** The list the problems are shown in (the textarea's aria-describedby names it). */
  problems: HTMLUListElement;
}

/** The entries the lines hold, as the gateway would store them. */
export function allowlistEntries(text: string): string[] {
  return [...new Set(text.split('\n').map((line) => line.trim()).filter((line) => line !== ''))];
}

/** Sentences naming what is wrong with the lines, in line order; none when all is well. */
export function allowlistProblems(text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    const entry = line.trim();
    if (entry === '') return;
    const problem = entryProblem(entry);
    if (problem) problems.push(`Line ${index + 1}: ${shown(entry)} is not an IPv4 or IPv6 address or CIDR range${why(problem)}.`);
  });
  const count = allowlistEntries(text).length;
  if (count > MAX_ALLOWLIST_ENTRIES) problems.push(`It holds ${count} entries; at most ${MAX_ALLOWLIST_ENTRIES} are allowed.`);
  return problems;
}

/** A long line would push the list off the dialog: shown by its start. */
function shown(entry: string): string {
  return entry.length > 60 ? `${entry.slice(0, 57)}…` : entry;
}

function why(problem: EntryProblem): string {
  if (problem.kind === 'unreadable') return '';
  return ` (an ${problem.family} range ends in /${problem.min} to /${problem.max})`;
}

export class AllowlistField {
  constructor(private readonly fields: AllowlistFields) {
    fields.textarea.addEventListener('input', () => this.show());
  }

  get entries(): string[] {
    return allowlistEntries(this.fields.textarea.value);
  }

  /** Whether every line reads and there are not too many; shows why not. */
  show(): boolean {
    const { textarea, problems } = this.fields;
    const found = allowlistProblems(textarea.value);
    problems.replaceChildren(
      ...found.map((text) => {
        const li = document.createElement('li');
        li.className = 'failing';
        li.textContent = text;
        return li;
      }),
    );
    textarea.setAttribute('aria-invalid', String(found.length > 0));
    return found.length === 0;
  }

  /**
   * After the gateway refused a list the page found good (its check is the authority): the
   * field is marked and focused, the gateway's sentence being shown by the form.
   */
  refusedIfNamed(problem: unknown): void {
    if (!(problem instanceof ApiProblem) || problem.code !== 'ERROR_PARAMETER_INVALID' || !problem.sentence.includes('ipAllowlist')) return;
    this.fields.textarea.setAttribute('aria-invalid', 'true');
    this.fields.textarea.focus();
  }

  set(entries: readonly string[]): void {
    this.fields.textarea.value = entries.join('\n');
    this.show();
  }

  focus(): void {
    this.fields.textarea.focus();
  }
}
