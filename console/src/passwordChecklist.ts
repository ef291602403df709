// The password policy, checked as the person types: every failing rule next to the field. The
// rules are the server's own (the same module), and the server's check stays the authority.
import { passwordPolicyFailures } from '../../src/domain/passwordPolicy.js';

export interface PasswordFields {
  password: HTMLInputElement;
  confirm: HTMLInputElement;
  rules: HTMLUListElement;
  confirmError: HTMLElement;
}

export class PasswordChecklist {
  constructor(
    private readonly fields: PasswordFields,
    /** The username (when known) and the company name the password must not contain. */
    private readonly context: () => { username: string; companyName: string },
  ) {
    fields.password.addEventListener('input', () => this.show());
    fields.confirm.addEventListener('input', () => this.show());
  }

  /** Whether the password passes the policy and matches its confirmation; shows why not. */
  show(): boolean {
    const { password, confirm, rules, confirmError } = this.fields;
    const failures = passwordPolicyFailures(password.value, this.context());
    const items =
      failures.length > 0
        ? failures.map((rule) => item(`It ${rule}.`, 'failing'))
        : [item('It meets the password policy.', 'met')];
    if (password.value === '') items.splice(0, items.length, item('At least 8 characters, with a digit or a symbol; not the username, the company name or the word "password".', 'hint'));
    rules.replaceChildren(...items);
    password.setAttribute('aria-invalid', String(password.value !== '' && failures.length > 0));
    const mismatch = confirm.value !== '' && confirm.value !== password.value;
    confirmError.textContent = mismatch ? 'The two passwords are not the same.' : '';
    confirm.setAttribute('aria-invalid', String(mismatch));
    return failures.length === 0 && confirm.value === password.value;
  }

  clear(): void {
    this.fields.password.value = '';
    this.fields.confirm.value = '';
    this.show();
  }
}

function item(text: string, state: 'met' | 'failing' | 'hint'): HTMLLIElement {
  const li = document.createElement('li');
  li.textContent = text;
  li.className = state;
  return li;
}
