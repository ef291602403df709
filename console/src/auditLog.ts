// The Audit log view: the account's events, newest first, a page at a time, for all users or
// one of them. A page is asked for with one event more than it shows, to know whether there
// are older ones without counting them. Answers that come back after a newer request (the
// filter changed meanwhile) are dropped.
import type { ApiClient, ApiUser, AuditEvent } from './api.js';
import { auditSentence, type SentencePart } from './auditSentence.js';
import { timeElement } from './format.js';

export const AUDIT_PAGE_SIZE = 25;

export interface AuditLogElements {
  filter: HTMLSelectElement;
  table: HTMLTableElement;
  body: HTMLTableSectionElement;
  empty: HTMLElement;
  range: HTMLElement;
  newer: HTMLButtonElement;
  older: HTMLButtonElement;
  refresh: HTMLButtonElement;
  error: HTMLElement;
  /** Where the focus goes when the control that had it is gone (the view's heading). */
  heading: HTMLElement;
}

export interface AuditLogContext {
  client(): ApiClient | null;
  /** A call failed: a sign-in that stopped working, or something to say in the view. */
  failed(problem: unknown): void;
}

export class AuditLog {
  private skip = 0;
  private generation = 0;

  constructor(
    private readonly elements: AuditLogElements,
    private readonly context: AuditLogContext,
  ) {
    elements.filter.addEventListener('change', () => this.go(0));
    elements.refresh.addEventListener('click', () => this.go(this.skip));
    elements.newer.addEventListener('click', () => this.go(Math.max(0, this.skip - AUDIT_PAGE_SIZE)));
    elements.older.addEventListener('click', () => this.go(this.skip + AUDIT_PAGE_SIZE));
  }

  /** The users to filter by: the account's, oldest first, as the list shows them. */
  setUsers(users: readonly ApiUser[]): void {
    const { filter } = this.elements;
    const chosen = filter.value;
    const all = new Option('All users', '');
    const options = users.map((user) => {
      const about = [user.isOwner ? 'owner' : '', user.description].filter((part) => part !== '').join(', ');
      return new Option(about ? `${user.username} (${about})` : user.username, user.id);
    });
    filter.replaceChildren(all, ...options);
    // The choice stays while its user exists; a deleted user's filter falls back to all.
    filter.value = options.some((option) => option.value === chosen) ? chosen : '';
  }

  /** Starts again at the newest events (the view was opened). */
  open(): void {
    void this.go(0);
  }

  clear(): void {
    this.generation += 1;
    this.skip = 0;
    this.elements.filter.value = '';
    this.elements.body.replaceChildren();
    this.elements.range.textContent = '';
    this.elements.error.textContent = '';
  }

  private async go(skip: number): Promise<void> {
    const client = this.context.client();
    if (!client) return;
    const generation = ++this.generation;
    const { filter, table, error } = this.elements;
    error.textContent = '';
    table.setAttribute('aria-busy', 'true');
    const query = new URLSearchParams({ select: String(AUDIT_PAGE_SIZE + 1), skip: String(skip) });
    if (filter.value) query.set('apiUserId', filter.value);
    try {
      const events = await client.request<AuditEvent[]>('GET', `/audit-events?${query}`);
      if (generation !== this.generation) return;
      this.skip = skip;
      this.render(events.slice(0, AUDIT_PAGE_SIZE), events.length > AUDIT_PAGE_SIZE);
    } catch (problem) {
      if (generation === this.generation) this.context.failed(problem);
    } finally {
      if (generation === this.generation) table.removeAttribute('aria-busy');
    }
  }

  private render(events: readonly AuditEvent[], hasOlder: boolean): void {
    const { body, empty, range, newer, older, heading, filter } = this.elements;
    body.replaceChildren(...events.map(eventRow));
    empty.hidden = events.length > 0 || this.skip > 0;
    const who = filter.value ? ` about ${filter.selectedOptions[0]?.text ?? 'this user'}` : '';
    range.textContent =
      events.length === 0 ? (this.skip > 0 ? 'No older events.' : '') : `Events ${this.skip + 1} to ${this.skip + events.length}${who}, newest first.`;
    newer.disabled = this.skip === 0;
    older.disabled = !hasOlder;
    // A pager button that just became disabled loses the focus: keep it on the pager.
    const focused = document.activeElement;
    if (focused === newer && newer.disabled) (older.disabled ? heading : older).focus();
    if (focused === older && older.disabled) (newer.disabled ? heading : newer).focus();
  }
}

function eventRow(event: AuditEvent): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset.eventId = event.id;
  row.dataset.eventType = event.type;
  const when = document.createElement('td');
  when.append(timeElement(event.time, ''));
  const what = document.createElement('td');
  what.className = 'audit-what';
  what.append(...auditSentence(event).map(partNode), '.');
  const from = document.createElement('td');
  // The command line and the gateway's own events (a lock) come from no address.
  from.textContent = event.clientIp ?? 'Not recorded';
  if (event.clientIp === null) from.className = 'muted';
  row.append(when, what, from);
  return row;
}

function partNode(part: SentencePart): Node {
  if (typeof part === 'string') return document.createTextNode(part);
  if ('time' in part) return timeElement(part.time, '');
  const name = document.createElement('span');
  name.className = 'username';
  name.textContent = part.username;
  return name;
}
