// The operation table itself: an operation that forgets its permission does not load.
import { expect } from 'chai';
import { z } from 'zod';
import { defineOperation, type Operation } from '../src/operations/define.js';
import { operations } from '../src/operations/index.js';

const wellDefined = {
  name: 'GetThing',
  summary: 'A thing.',
  permission: 'anyApiUser',
  rest: { method: 'GET', path: '/things/:id', successStatus: 200, sources: { id: 'path' } },
  input: z.strictObject({ id: z.string() }),
  result: z.string(),
  handle: async () => 'thing',
} as const;

describe('the operation table', () => {
  it('refuses an operation without a permission, or with one it does not know', () => {
    const { permission: _omitted, ...withoutPermission } = wellDefined;
    expect(() => defineOperation(withoutPermission as never)).to.throw(/must declare a permission/);
    expect(() => defineOperation({ ...wellDefined, permission: 'everyone' } as never)).to.throw(/must declare a permission/);
    expect(defineOperation(wellDefined as never).name).to.equal('GetThing');
  });

  it('refuses an input field that REST cannot find, or a path field that is no input', () => {
    expect(() => defineOperation({ ...wellDefined, rest: { ...wellDefined.rest, sources: {} } } as never)).to.throw(/input field id has no REST source/);
    expect(() => defineOperation({ ...wellDefined, rest: { ...wellDefined.rest, path: '/things' } } as never)).to.throw(/path field id is not in the REST path/);
    expect(() =>
      defineOperation({ ...wellDefined, rest: { ...wellDefined.rest, path: '/things', sources: { id: 'body' } } } as never),
    ).to.throw(/a GET has no body/);
  });

  it('holds operations with unique names and unique REST routes, each with a permission', () => {
    const names = operations.map((operation) => operation.name);
    expect(new Set(names).size).to.equal(names.length);
    const routes = operations.map((operation: Operation) => `${operation.rest.method} ${operation.rest.path}`);
    expect(new Set(routes).size).to.equal(routes.length);
    const management = operations.filter((operation) => operation.permission === 'manageAccount').map((operation) => operation.name);
    expect(management.sort()).to.deep.equal(
      ['GetApiUsers', 'GetApiUserById', 'CreateApiUser', 'UpdateApiUser', 'ResetApiUserPassword', 'DeleteApiUser', 'DeleteApiUsers', 'GetAuditEvents'].sort(),
    );
  });
});
