// The clock minutes the poll for the newest wrong passwords and changes asks for.
import { expect } from 'chai';
import { clockMinute, clockMinutesBetween } from '../src/domain/clockMinutes.js';

describe('clock minutes', () => {
  it('name the UTC minute of a time, and list every minute between two, both ends included', () => {
    expect(clockMinute(Date.parse('2026-12-01T19:22:59.999Z'))).to.equal('2026-12-01T19:22');
    expect(clockMinute(Date.parse('2026-12-01T19:23:00.000Z'))).to.equal('2026-12-01T19:23');
    expect(clockMinutesBetween(Date.parse('2026-12-01T23:58:50Z'), Date.parse('2026-12-02T00:00:10Z'))).to.deep.equal([
      '2026-12-01T23:58',
      '2026-12-01T23:59',
      '2026-12-02T00:00',
    ]);
    expect(clockMinutesBetween(Date.parse('2026-12-01T19:22:10Z'), Date.parse('2026-12-01T19:22:20Z'))).to.deep.equal(['2026-12-01T19:22']);
  });
});
