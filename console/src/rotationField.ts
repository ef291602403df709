// "Keep the old password working for … hours" on the reset form: a whole number from 0 to
// 168 (the contract's keepPreviousForHours), checked as typed. Empty counts as 0, the default.

export const MAX_KEEP_HOURS = 168;

export class RotationField {
  constructor(
    private readonly input: HTMLInputElement,
    private readonly error: HTMLElement,
  ) {
    input.addEventListener('input', () => this.show());
  }

  /** The hours asked for, or null when the field does not hold a whole number from 0 to 168. */
  get hours(): number | null {
    // A number input's value is '' for what it cannot read ("1e"): badInput tells it from empty.
    if (this.input.validity.badInput) return null;
    const text = this.input.value.trim();
    if (text === '') return 0;
    if (!/^\d+$/.test(text)) return null;
    const hours = Number(text);
    return hours <= MAX_KEEP_HOURS ? hours : null;
  }

  /** Whether the hours are acceptable; says why not beside the field. */
  show(): boolean {
    const ok = this.hours !== null;
    this.error.textContent = ok ? '' : `Enter a whole number of hours from 0 to ${MAX_KEEP_HOURS}.`;
    this.input.setAttribute('aria-invalid', String(!ok));
    return ok;
  }

  clear(): void {
    this.input.value = '0';
    this.show();
  }

  focus(): void {
    this.input.focus();
  }
}
