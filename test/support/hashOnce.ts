// A process that checks one password and does nothing else: it must end by itself (an idle
// bcrypt worker thread keeps no process alive) and not before its answer (a busy one does).
import { PasswordHasher } from '../../src/domain/passwords.js';

const hasher = new PasswordHasher(4, { slots: 1 });
const hash = await hasher.hash('Ends-by-itself-1');
console.log(String(await hasher.verify('Ends-by-itself-1', hash)));
