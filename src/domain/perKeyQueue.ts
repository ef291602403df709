// Jobs that must not overlap when they touch the same keys, run one after the other per key,
// in the order they were asked for; jobs on other keys run alongside.
//
// Why: a stock FerretDB 1.x applies an update by reading the document and writing all of it
// back, so two writes of one API user at once (an update and another's publication pulling its
// events, a disable and a description change) can undo one of them; and a user's audit events
// are kept in the order of its changes. Within a process, the writes of a user's change and of
// its publication go through here (see AuditTrail.userWrites).
export class PerKeyQueue {
  /** The last job asked for on each key (settled or not): the next one on that key waits for it. */
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(keys: readonly string[], job: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const result = Promise.all(unique.map((key) => this.tails.get(key))).then(job);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    for (const key of unique) this.tails.set(key, done);
    void done.then(() => {
      for (const key of unique) if (this.tails.get(key) === done) this.tails.delete(key);
    });
    return result;
  }
}
