// The Access page: sign in, list the account's API users, create, edit, reset, delete, and
// read the audit log. The credentials live in this module's memory only (no storage, no
// cookie): a reload signs out.
import { AllowlistField, type AllowlistFields } from './allowlistField.js';
import { ApiClient, ApiProblem, type AccountInfo, type ApiUser } from './api.js';
import { AuditLog } from './auditLog.js';
import { rotationNote } from './format.js';
import { problemSentence } from './messages.js';
import { Navigation, type ViewName } from './navigation.js';
import { PasswordChecklist, type PasswordFields } from './passwordChecklist.js';
import { RotationField } from './rotationField.js';
import { UsersTable } from './usersTable.js';

function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`The page has no ${type.name} #${id}.`);
  return element;
}

const views = {
  signIn: byId('sign-in-view', HTMLElement),
  forbidden: byId('forbidden-view', HTMLElement),
  users: byId('users-view', HTMLElement),
  audit: byId('audit-view', HTMLElement),
};
const viewsNav = byId('views-nav', HTMLElement);
const signOutButton = byId('sign-out', HTMLButtonElement);
const notice = byId('notice', HTMLElement);
const usersError = byId('users-error', HTMLElement);
const deleteSelected = byId('delete-selected', HTMLButtonElement);

let client: ApiClient | null = null;
let companyName = '';
/** The user being edited. */
let editing: ApiUser | null = null;

function show(view: keyof typeof views): void {
  for (const [name, element] of Object.entries(views)) element.hidden = name !== view;
  signOutButton.hidden = view === 'signIn';
  const signedInView: ViewName | null = view === 'users' || view === 'audit' ? view : null;
  viewsNav.hidden = signedInView === null;
  navigation.mark(signedInView);
}

const navigation = new Navigation(
  {
    users: { link: byId('nav-users', HTMLAnchorElement), title: 'API users' },
    audit: { link: byId('nav-audit', HTMLAnchorElement), title: 'Audit log' },
  },
  (view) => {
    if (!client) return;
    show(view);
    if (view === 'audit') auditLog.open();
    byId(view === 'audit' ? 'audit-title' : 'users-title', HTMLElement).focus();
  },
);

/** Runs a call with its form's buttons disabled, showing a failure in `errorElement`. */
async function busy(form: HTMLFormElement, errorElement: HTMLElement, work: () => Promise<void>): Promise<void> {
  const buttons = [...form.querySelectorAll('button')];
  for (const button of buttons) button.disabled = true;
  errorElement.textContent = '';
  try {
    await work();
  } catch (problem) {
    if (problem instanceof ApiProblem && problem.status === 401 && client) {
      signOut('Your sign-in stopped working (the password was changed, or the user was disabled or locked). Sign in again.');
      return;
    }
    errorElement.textContent = problemSentence(problem);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

// --- signing in and out ---------------------------------------------------------------------

const signInForm = byId('sign-in-form', HTMLFormElement);
const signInError = byId('sign-in-error', HTMLElement);

signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const username = byId('sign-in-username', HTMLInputElement).value.trim();
  const password = byId('sign-in-password', HTMLInputElement).value;
  if (!username || !password) {
    signInError.textContent = 'Enter both the username and the password.';
    return;
  }
  const candidate = new ApiClient({ username, password });
  void busy(signInForm, signInError, async () => {
    try {
      await loadUsers(candidate);
    } catch (problem) {
      if (problem instanceof ApiProblem && problem.status === 403) {
        client = candidate;
        byId('sign-in-password', HTMLInputElement).value = '';
        byId('forbidden-username', HTMLElement).textContent = username;
        show('forbidden');
        return;
      }
      throw problem;
    }
    client = candidate;
    byId('sign-in-password', HTMLInputElement).value = '';
    show('users');
    byId('users-title', HTMLElement).focus();
    // From here the sign-in form is hidden: the account's failure belongs to the list's view.
    await loadAccount().catch(showUsersProblem);
  });
});

function signOut(message = ''): void {
  client = null;
  companyName = '';
  table.show([]);
  auditLog.clear();
  auditLog.setUsers([]);
  for (const dialog of document.querySelectorAll('dialog')) dialog.close();
  byId('sign-in-password', HTMLInputElement).value = '';
  signInError.textContent = message;
  notice.textContent = '';
  usersError.textContent = '';
  show('signIn');
  byId('sign-in-username', HTMLInputElement).focus();
}
signOutButton.addEventListener('click', () => signOut());
byId('forbidden-sign-out', HTMLButtonElement).addEventListener('click', () => signOut());

// --- the list -------------------------------------------------------------------------------

const table = new UsersTable(byId('users-body', HTMLTableSectionElement), byId('select-all', HTMLInputElement), {
  edit: (user) => openEdit(user),
  selectionChanged: (selected) => {
    deleteSelected.disabled = selected.size === 0;
    deleteSelected.textContent = selected.size > 0 ? `Delete selected (${selected.size})` : 'Delete selected';
  },
});

const auditError = byId('audit-error', HTMLElement);
const auditLog = new AuditLog(
  {
    filter: byId('audit-user', HTMLSelectElement),
    table: byId('audit-table', HTMLTableElement),
    body: byId('audit-body', HTMLTableSectionElement),
    empty: byId('audit-empty', HTMLElement),
    range: byId('audit-range', HTMLElement),
    newer: byId('audit-newer', HTMLButtonElement),
    older: byId('audit-older', HTMLButtonElement),
    refresh: byId('audit-refresh', HTMLButtonElement),
    error: auditError,
    heading: byId('audit-title', HTMLElement),
  },
  {
    client: () => client,
    failed: (problem) => {
      if (problem instanceof ApiProblem && problem.status === 401) signOut('Your sign-in stopped working. Sign in again.');
      else auditError.textContent = problemSentence(problem);
    },
  },
);

const PAGE_SIZE = 1000;

async function loadUsers(using: ApiClient | null = client): Promise<void> {
  if (!using) return;
  const users: ApiUser[] = [];
  for (let skip = 0; ; skip += PAGE_SIZE) {
    const page = await using.request<ApiUser[]>('GET', `/api-users?select=${PAGE_SIZE}&skip=${skip}`);
    users.push(...page);
    if (page.length < PAGE_SIZE) break;
  }
  table.show(users);
  auditLog.setUsers(users);
  byId('users-empty', HTMLElement).hidden = users.length > 1;
}

async function loadAccount(): Promise<void> {
  if (!client) return;
  const account = await client.request<AccountInfo>('GET', '/account-info');
  const property = (name: string) => account.properties.find((candidate) => candidate.name === name)?.value ?? '';
  companyName = property('Name');
  byId('account-name', HTMLElement).textContent = companyName;
  byId('account-endpoint', HTMLElement).textContent = property('ApiEndpoint');
  byId('account-calls', HTMLElement).textContent = Number(property('ApiCallsRemaining')).toLocaleString();
}

async function refresh(): Promise<void> {
  await loadUsers();
  await loadAccount();
}

byId('refresh', HTMLButtonElement).addEventListener('click', () => {
  notice.textContent = '';
  usersError.textContent = '';
  void refresh().catch(showUsersProblem);
});

/** Shows a failed read of the list's view above the list; a refused sign-in signs out. */
function showUsersProblem(problem: unknown): void {
  if (problem instanceof ApiProblem && problem.status === 401) signOut('Your sign-in stopped working. Sign in again.');
  else usersError.textContent = problemSentence(problem);
}

/** After a change: the list as it is now, and what was done. */
async function done(message: string): Promise<void> {
  notice.textContent = message;
  usersError.textContent = '';
  try {
    await refresh();
  } catch (problem) {
    // A manager who disabled, reset or deleted itself is signed out, as any refused sign-in is.
    showUsersProblem(problem);
  }
}

/** A form's allowlist textarea and its problem list, named `<form>-allowlist` and so on. */
function allowlistFields(form: string): AllowlistFields {
  return {
    textarea: byId(`${form}-allowlist`, HTMLTextAreaElement),
    problems: byId(`${form}-allowlist-problems`, HTMLUListElement),
  };
}

/** A form's password, confirmation and rule list, named `<form>-password` and so on. */
function passwordFields(form: string): PasswordFields {
  return {
    password: byId(`${form}-password`, HTMLInputElement),
    confirm: byId(`${form}-confirm`, HTMLInputElement),
    rules: byId(`${form}-policy`, HTMLUListElement),
    confirmError: byId(`${form}-confirm-error`, HTMLElement),
  };
}

// Every dialog's Cancel button closes it.
for (const cancel of document.querySelectorAll<HTMLButtonElement>('dialog button.cancel')) {
  cancel.addEventListener('click', () => cancel.closest('dialog')?.close());
}

// --- new user -------------------------------------------------------------------------------

const createDialog = byId('create-dialog', HTMLDialogElement);
const createForm = byId('create-form', HTMLFormElement);
const createChecklist = new PasswordChecklist(
  passwordFields('create'),
  // The username is generated on save: only the company name can be checked beforehand.
  () => ({ username: '', companyName }),
);
const createAllowlist = new AllowlistField(allowlistFields('create'));

byId('new-user', HTMLButtonElement).addEventListener('click', () => {
  createForm.reset();
  createChecklist.clear();
  createAllowlist.set([]);
  byId('create-error', HTMLElement).textContent = '';
  createDialog.showModal();
  byId('create-description', HTMLInputElement).focus();
});

createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const error = byId('create-error', HTMLElement);
  if (!createChecklist.show()) {
    error.textContent = 'Choose a password that meets every rule, and type it twice.';
    byId('create-password', HTMLInputElement).focus();
    return;
  }
  if (!createAllowlist.show()) {
    error.textContent = 'Correct the IP allowlist: each line one address or CIDR range.';
    createAllowlist.focus();
    return;
  }
  const ipAllowlist = createAllowlist.entries;
  void busy(createForm, error, async () => {
    const created = await client!
      .request<ApiUser>('POST', '/api-users', {
        description: byId('create-description', HTMLInputElement).value,
        password: byId('create-password', HTMLInputElement).value,
        enabled: byId('create-enabled', HTMLInputElement).checked,
        canManageAccount: byId('create-manage', HTMLInputElement).checked,
        // Empty is the default (any address): it needs no saying.
        ...(ipAllowlist.length > 0 ? { ipAllowlist } : {}),
      })
      .catch((problem: unknown) => {
        createAllowlist.refusedIfNamed(problem);
        throw problem;
      });
    createChecklist.clear();
    createDialog.close();
    byId('created-username', HTMLInputElement).value = created.username;
    byId('copy-status', HTMLElement).textContent = '';
    byId('created-dialog', HTMLDialogElement).showModal();
    byId('copy-username', HTMLButtonElement).focus();
    await done(`Created ${created.username}.`);
  });
});

byId('copy-username', HTMLButtonElement).addEventListener('click', () => {
  const field = byId('created-username', HTMLInputElement);
  const status = byId('copy-status', HTMLElement);
  field.select();
  navigator.clipboard
    .writeText(field.value)
    .then(() => (status.textContent = 'Copied to the clipboard.'))
    .catch(() => (status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.'));
});

// --- edit and reset password ----------------------------------------------------------------

const editDialog = byId('edit-dialog', HTMLDialogElement);
const editForm = byId('edit-form', HTMLFormElement);
const resetForm = byId('reset-form', HTMLFormElement);
const resetChecklist = new PasswordChecklist(passwordFields('reset'), () => ({ username: editing?.username ?? '', companyName }));
const editAllowlist = new AllowlistField(allowlistFields('edit'));
const resetKeep = new RotationField(byId('reset-keep', HTMLInputElement), byId('reset-keep-error', HTMLElement));

function openEdit(user: ApiUser): void {
  editing = user;
  byId('edit-username', HTMLElement).textContent = user.username;
  byId('edit-status', HTMLElement).textContent = user.locked ? 'This user is locked: resetting its password unlocks it.' : '';
  byId('edit-description', HTMLInputElement).value = user.description;
  const enabled = byId('edit-enabled', HTMLInputElement);
  const manage = byId('edit-manage', HTMLInputElement);
  enabled.checked = user.enabled;
  manage.checked = user.canManageAccount;
  enabled.disabled = user.isOwner;
  manage.disabled = user.isOwner;
  byId('edit-owner-note', HTMLElement).hidden = !user.isOwner;
  editAllowlist.set(user.ipAllowlist);
  byId('edit-error', HTMLElement).textContent = '';
  byId('reset-error', HTMLElement).textContent = '';
  const rotation = rotationNote(user);
  const rotationLine = byId('reset-rotation', HTMLElement);
  rotationLine.replaceChildren(...(rotation ? [rotation, '. Another reset ends it at once.'] : []));
  rotationLine.hidden = rotation === null;
  resetChecklist.clear();
  resetKeep.clear();
  editDialog.showModal();
  byId('edit-description', HTMLInputElement).focus();
}

editForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const user = editing;
  if (!user) return;
  const error = byId('edit-error', HTMLElement);
  if (!editAllowlist.show()) {
    error.textContent = 'Correct the IP allowlist: each line one address or CIDR range.';
    editAllowlist.focus();
    return;
  }
  const changes: Partial<Pick<ApiUser, 'description' | 'enabled' | 'canManageAccount' | 'ipAllowlist'>> = {};
  const description = byId('edit-description', HTMLInputElement).value;
  const enabled = byId('edit-enabled', HTMLInputElement).checked;
  const canManageAccount = byId('edit-manage', HTMLInputElement).checked;
  if (description !== user.description) changes.description = description;
  if (enabled !== user.enabled) changes.enabled = enabled;
  if (canManageAccount !== user.canManageAccount) changes.canManageAccount = canManageAccount;
  const ipAllowlist = editAllowlist.entries;
  if (ipAllowlist.join('\n') !== user.ipAllowlist.join('\n')) changes.ipAllowlist = ipAllowlist;
  if (Object.keys(changes).length === 0) {
    editDialog.close();
    return;
  }
  void busy(editForm, error, async () => {
    await client!.request<ApiUser>('PUT', `/api-users/${encodeURIComponent(user.id)}`, changes).catch((problem: unknown) => {
      editAllowlist.refusedIfNamed(problem);
      throw problem;
    });
    editDialog.close();
    await done(`Saved the changes to ${user.username}.`);
  });
});

resetForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const user = editing;
  if (!user) return;
  const error = byId('reset-error', HTMLElement);
  if (!resetChecklist.show()) {
    error.textContent = 'Choose a password that meets every rule, and type it twice.';
    byId('reset-password', HTMLInputElement).focus();
    return;
  }
  const keepPreviousForHours = resetKeep.show() ? resetKeep.hours : null;
  if (keepPreviousForHours === null) {
    error.textContent = 'Say for how many hours the old password keeps working: 0 to 168.';
    resetKeep.focus();
    return;
  }
  const password = byId('reset-password', HTMLInputElement).value;
  void busy(resetForm, error, async () => {
    const reset = await client!.request<ApiUser>('PUT', `/api-users/${encodeURIComponent(user.id)}/password`, {
      password,
      // 0 is the default (the old password stops at once): it needs no saying.
      ...(keepPreviousForHours > 0 ? { keepPreviousForHours } : {}),
    });
    // Resetting one's own password: the page goes on with the new one.
    if (client && user.username === client.username) client = new ApiClient({ username: user.username, password });
    resetChecklist.clear();
    editDialog.close();
    const kept = reset.previousPasswordExpires ? `; the old one works until ${new Date(reset.previousPasswordExpires).toLocaleString()}` : '';
    await done(`Reset the password of ${user.username}${user.locked ? ' and unlocked it' : ''}${kept}.`);
  });
});

// --- delete ---------------------------------------------------------------------------------

const deleteDialog = byId('delete-dialog', HTMLDialogElement);
const deleteForm = byId('delete-form', HTMLFormElement);

deleteSelected.addEventListener('click', () => {
  const count = table.selection.size;
  if (count === 0) return;
  byId('delete-text', HTMLElement).textContent =
    `Delete ${count === 1 ? '1 API user' : `${count} API users`}? Integrations using ${count === 1 ? 'it' : 'them'} will stop working at once. This cannot be undone.`;
  byId('delete-error', HTMLElement).textContent = '';
  deleteDialog.showModal();
  deleteForm.querySelector<HTMLButtonElement>('button.cancel')?.focus();
});

deleteForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const ids = [...table.selection];
  void busy(deleteForm, byId('delete-error', HTMLElement), async () => {
    const result = await client!.request<{ deletedCount: number }>('POST', '/api-users/delete', { ids });
    deleteDialog.close();
    await done(`Deleted ${result.deletedCount === 1 ? '1 API user' : `${result.deletedCount} API users`}.`);
  });
});

show('signIn');
byId('sign-in-username', HTMLInputElement).focus();
