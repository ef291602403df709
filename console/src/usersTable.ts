// The list of API users: one row each, built with textContent only (a description is data,
// never markup). Ticks select rows for deletion; the owner's row cannot be ticked.
import type { ApiUser } from './api.js';
import { allowlistSummary, rotationNote, statusOf, timeElement } from './format.js';

export interface UsersTableEvents {
  edit(user: ApiUser): void;
  selectionChanged(selected: ReadonlySet<string>): void;
}

export class UsersTable {
  private users: ApiUser[] = [];
  private readonly selected = new Set<string>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly selectAll: HTMLInputElement,
    private readonly events: UsersTableEvents,
  ) {
    selectAll.addEventListener('change', () => {
      for (const user of this.deletable()) {
        if (selectAll.checked) this.selected.add(user.id);
        else this.selected.delete(user.id);
      }
      this.render();
    });
  }

  get selection(): ReadonlySet<string> {
    return this.selected;
  }

  show(users: ApiUser[]): void {
    this.users = users;
    // Ticks survive a refresh for users that still exist.
    const ids = new Set(users.map((user) => user.id));
    for (const id of [...this.selected]) if (!ids.has(id)) this.selected.delete(id);
    this.render();
  }

  /** The focused element's row (by user id) and place among that row's controls, when it is one of them. */
  private focusedControl(): { userId: string; index: number } | undefined {
    const active = document.activeElement;
    const userId = active?.closest('tr')?.dataset.userId;
    if (!(active instanceof HTMLElement) || !userId || !this.body.contains(active)) return undefined;
    const index = this.controlsOf(userId).indexOf(active);
    return index >= 0 ? { userId, index } : undefined;
  }

  private controlsOf(userId: string): HTMLElement[] {
    const row = [...this.body.rows].find((candidate) => candidate.dataset.userId === userId);
    return row ? [...row.querySelectorAll<HTMLElement>('input, button')] : [];
  }

  private deletable(): ApiUser[] {
    return this.users.filter((user) => !user.isOwner);
  }

  private render(): void {
    // Every change (a tick, a refresh) rebuilds the rows: the control a keyboard user had
    // focused in a row is focused again in that user's new row, or the focus would fall back
    // to the start of the page (and a keypress meant for the old control would go nowhere).
    const focused = this.focusedControl();
    this.body.replaceChildren(...this.users.map((user) => this.row(user)));
    if (focused) this.controlsOf(focused.userId)[focused.index]?.focus();
    const deletable = this.deletable();
    const ticked = deletable.filter((user) => this.selected.has(user.id)).length;
    this.selectAll.checked = deletable.length > 0 && ticked === deletable.length;
    this.selectAll.indeterminate = ticked > 0 && ticked < deletable.length;
    this.selectAll.disabled = deletable.length === 0;
    this.events.selectionChanged(this.selected);
  }

  private row(user: ApiUser): HTMLTableRowElement {
    const row = document.createElement('tr');
    row.dataset.userId = user.id;

    const tick = document.createElement('input');
    tick.type = 'checkbox';
    tick.checked = this.selected.has(user.id);
    if (user.isOwner) {
      tick.disabled = true;
      tick.title = 'The account owner cannot be deleted.';
      tick.setAttribute('aria-label', `${user.username} is the account owner and cannot be deleted`);
    } else {
      tick.setAttribute('aria-label', `Select ${user.username}`);
      tick.addEventListener('change', () => {
        if (tick.checked) this.selected.add(user.id);
        else this.selected.delete(user.id);
        this.render();
      });
    }

    const username = cell(user.username, 'username');
    if (user.isOwner) {
      const tag = document.createElement('span');
      tag.className = 'owner-tag';
      tag.textContent = 'Owner';
      username.append(tag);
    }
    const { text, kind } = statusOf(user);
    const status = cell(text, `status status-${kind}`);
    // During a rotation the old password still works: worth seeing beside the status.
    const rotation = rotationNote(user);
    if (rotation) status.append(rotation);
    const allowed = cell(allowlistSummary(user.ipAllowlist));
    if (user.ipAllowlist.length > 0) allowed.title = user.ipAllowlist.join('\n');
    const edit = document.createElement('button');
    edit.type = 'button';
    edit.textContent = 'Edit';
    edit.setAttribute('aria-label', `Edit ${user.username}`);
    edit.addEventListener('click', () => this.events.edit(user));

    row.append(
      cellOf(tick),
      username,
      cell(user.description),
      status,
      cell(user.canManageAccount ? 'Yes' : 'No'),
      allowed,
      cellOf(timeElement(user.created, '')),
      cellOf(timeElement(user.lastUsed, 'Never')),
      cellOf(edit),
    );
    return row;
  }
}

function cell(text: string, className = ''): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function cellOf(child: Node): HTMLTableCellElement {
  const td = document.createElement('td');
  td.append(child);
  return td;
}
