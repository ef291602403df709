// Moving between the signed-in views ("API users", "Audit log"): real links in a <nav>, the
// current one marked with aria-current, the focus taken to the new view's heading so that a
// screen reader says where it landed and Tab goes on from there. The links point at the
// views' sections; the page switches in place (a reload would sign out anyway).

export type ViewName = 'users' | 'audit';

export interface NavigationTarget {
  link: HTMLAnchorElement;
  /** Its name in the page title and the top line. */
  title: string;
}

export class Navigation {
  constructor(
    private readonly targets: Record<ViewName, NavigationTarget>,
    private readonly open: (view: ViewName) => void,
  ) {
    for (const [view, { link }] of entries(targets)) {
      link.addEventListener('click', (event) => {
        event.preventDefault();
        this.open(view);
      });
    }
  }

  /** Marks the current view; `null` when none of them is shown (signed out). */
  mark(current: ViewName | null): void {
    for (const [view, { link }] of entries(this.targets)) {
      if (view === current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    const title = current ? this.targets[current].title : 'API users';
    document.title = `Access · ${title} · dualgate`;
  }
}

function entries(targets: Record<ViewName, NavigationTarget>): Array<[ViewName, NavigationTarget]> {
  return [
    ['users', targets.users],
    ['audit', targets.audit],
  ];
}
