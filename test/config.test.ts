import { expect } from 'chai';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).to.include({
      PORT: 8080,
      BCRYPT_COST: 12,
      LOCKOUT_THRESHOLD: 5,
      API_USER_DOMAIN: 'dualgate.local',
      REST_BODY_LIMIT_BYTES: 100 * 1024,
      SOAP_BODY_LIMIT_BYTES: 1024 * 1024,
      LOG_BUFFER_MAX_BYTES: 16 * 1024 * 1024,
    });
    expect(config.MONGODB_URI).to.equal(undefined);
    expect(config.PUBLIC_URL).to.equal(undefined);
  });

  it('normalises what it can', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://api.example.com/' }).PUBLIC_URL).to.equal('https://api.example.com');
    expect(loadConfig({ API_USER_DOMAIN: 'API.Example.COM' }).API_USER_DOMAIN).to.equal('api.example.com');
  });

  it("reads TRUST_PROXY as Express's trust proxy: none by default, a hop count, or proxies' addresses", () => {
    expect(loadConfig({}).TRUST_PROXY).to.equal(undefined);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).to.equal(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,2001:db8::1' }).TRUST_PROXY).to.deep.equal(['loopback', '10.0.0.0/8', '2001:db8::1']);
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /PORT must be a whole number from 0 to 65535 \(got "eighty"\)/],
    [{ PORT: '70000' }, /PORT must be/],
    [{ BCRYPT_COST: '3' }, /BCRYPT_COST must be a whole number from 4 to 31/],
    [{ LOCKOUT_THRESHOLD: '0' }, /LOCKOUT_THRESHOLD must be/],
    [{ MONGODB_URI: 'postgres://x' }, /MONGODB_URI must start with mongodb:\/\//],
    [{ MONGODB_URI: 'mongodb://127.0.0.1:99999/x' }, /MONGODB_URI is not a valid connection string: Unable to parse 127\.0\.0\.1:99999/],
    [{ MONGODB_URI: 'mongodb://u:secret@db.example/x?retryWrite=true' }, /MONGODB_URI is not a valid connection string: option retrywrite is not supported/],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL must be an absolute http\(s\) URL/],
    [{ PUBLIC_URL: 'ftp://example.com' }, /PUBLIC_URL must be a plain http\(s\) base URL/],
    [{ PUBLIC_URL: 'https://user:pw@example.com' }, /without credentials/],
    [{ PUBLIC_URL: 'https://gw.example.com/?' }, /without credentials, query or fragment/],
    [{ PUBLIC_URL: 'https://gw.example.com/#' }, /without credentials, query or fragment/],
    [{ API_USER_DOMAIN: 'not a domain' }, /API_USER_DOMAIN must be a domain name/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ DEMO_ACCOUNT: 'yes' }, /DEMO_ACCOUNT must be one of auto, on, off/],
    [{ LOG_BUFFER_MAX_BYTES: '1024' }, /LOG_BUFFER_MAX_BYTES must be a whole number from 65536 to 134217728/],
    // Believing every hop would let any client name any address, and pass any allowlist.
    [{ TRUST_PROXY: 'true' }, /TRUST_PROXY must be a hop count from 1 to 10 or a comma-separated list/],
    [{ TRUST_PROXY: '0' }, /TRUST_PROXY must be/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /TRUST_PROXY must be/],
    [{ TRUST_PROXY: 'loopback,,' }, /TRUST_PROXY must be/],
    // Every address is every hop: `true` again (and refused by Express at start, after the database).
    [{ TRUST_PROXY: '0.0.0.0/0' }, /TRUST_PROXY must be/],
    [{ TRUST_PROXY: 'loopback, ::/0' }, /TRUST_PROXY must be/],
  ];
  for (const [env, message] of bad) {
    it(`stops on ${JSON.stringify(env)} with a clear message`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it("never repeats a bad MONGODB_URI's password in its message", () => {
    expect(() => loadConfig({ MONGODB_URI: 'mongodb://u:s3cret-pw@db.example/x?retryWrite=true' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.does.not.include('s3cret-pw');
  });

  it('takes an empty LOG_LEVEL for the default, as every other variable', () => {
    expect(loadConfig({ LOG_LEVEL: '' }).LOG_LEVEL).to.equal('info');
    expect(loadConfig({ LOG_LEVEL: 'warn' }).LOG_LEVEL).to.equal('warn');
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', BCRYPT_COST: 'y' })).to.throw(/PORT must be.*BCRYPT_COST must be/);
  });
});
