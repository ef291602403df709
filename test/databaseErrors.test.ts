// Which errors of the database driver mean "the database cannot serve just now" (a 503 with
// Retry-After) and which are a bug (a 500 with a logged request id). The errors are the
// driver's own classes, built as the driver and the servers make them; the FerretDB message is
// the one its shutdown answered an in-flight find with, copied from a gateway's log.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { isDatabaseUnavailable } from '../src/db/connection.js';

const { MongoServerError, MongoClientClosedError, MongoServerClosedError, MongoNetworkError, MongoOperationTimeoutError } = mongoose.mongo;

const ferretdbShutdown =
  '[msg_find.go:344 handler.handleMaxTimeMSError] [msg_find.go:316 handler.(*Handler).makeFindIter] [sort_iterator.go:36 common.SortIterator] ' +
  '[query_iterator.go:79 sqlite.(*queryIterator).Next] context canceled after delay';

function serverError(code: number, codeName: string, errmsg: string): Error {
  return new MongoServerError({ ok: 0, code, codeName, errmsg });
}

describe('database errors: unavailable (503) or a bug (500)', () => {
  const unavailable: Array<[string, Error]> = [
    ['FerretDB cancelling a command as it stops', serverError(1, 'InternalError', ferretdbShutdown)],
    ['MongoDB interrupting a command at its shutdown', serverError(11600, 'InterruptedAtShutdown', 'interrupted at shutdown')],
    ['MongoDB shutting down', serverError(91, 'ShutdownInProgress', 'The server is in quiesce mode and will shut down')],
    ['a primary stepping down', serverError(189, 'PrimarySteppedDown', 'Primary stepped down while waiting for replication')],
    ['a write sent to a node that is no longer primary', serverError(10107, 'NotWritablePrimary', 'not primary')],
    ['a command at its maxTimeMS', serverError(50, 'MaxTimeMSExpired', 'operation exceeded time limit')],
    ['the watchdog closing the client under a command', new MongoClientClosedError()],
    ['a server closed under a command', new MongoServerClosedError()],
    ['a lost connection', new MongoNetworkError('connection 7 to 127.0.0.1:27017 closed')],
    ['an operation timeout', new MongoOperationTimeoutError('Timed out during socket read')],
  ];
  for (const [what, error] of unavailable) {
    it(`unavailable: ${what}`, () => expect(isDatabaseUnavailable(error)).to.equal(true));
  }

  const bugs: Array<[string, unknown]> = [
    ['any other InternalError of FerretDB', serverError(1, 'InternalError', '[msg_find.go:344 handler.handleMaxTimeMSError] invalid projection')],
    ['a query the server refuses', serverError(2, 'BadValue', 'unknown operator: $foo')],
    ['a duplicate key', serverError(11000, 'DuplicateKey', 'E11000 duplicate key error')],
    ['the shutdown message in an error that is not the server\'s', new Error('context canceled after delay')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a thrown string', 'ECONNRESET'],
  ];
  for (const [what, error] of bugs) {
    it(`a bug: ${what}`, () => expect(isDatabaseUnavailable(error)).to.equal(false));
  }
});
