import { expect } from 'chai';
import type { RestResponse } from './rest.js';
import type { SoapResponse } from './soap.js';

/** The contract's REST error: the status, and {"message": "<sentence>. CODE"}, nothing else. */
export function expectRestError(response: RestResponse, status: number, code: string): string {
  expect(response.status, response.text).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^application\/json/);
  const body = response.body as { message?: unknown };
  expect(Object.keys(body)).to.deep.equal(['message']);
  const message = String(body.message);
  expect(message).to.match(new RegExp(`^[A-Z][^\\n]*[.] ${code}$`));
  expectNoInternals(message);
  return message;
}

/** The contract's SOAP fault: the status, faultcode, faultstring, detail/ErrorCode. */
export function expectSoapFault(response: SoapResponse, status: number, code: string, faultcode = 'soap:Client'): string {
  expect(response.status, response.text).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^text\/xml/);
  expect(response.fault, response.text).to.not.equal(undefined);
  expect(response.fault!.faultcode).to.equal(faultcode);
  expect(response.fault!.errorCode).to.equal(code);
  expect(response.fault!.faultstring).to.match(new RegExp(`^[A-Z][^\\n]*[.] ${code}$`));
  expectNoInternals(response.text);
  return response.fault!.faultstring;
}

const INTERNALS = /\bat .+\(.*:\d+:\d+\)|node_modules|\/src\/|\/work\/|TypeError|ReferenceError|Mongo|mongoose|sax|node-soap|zod|stack/gi;

/**
 * No stack, path or library name in an answer. `sent`: what the caller sent, whose words an
 * answer may quote back (a fuzzed field named 'pass zOd' is named in its error, and is no leak).
 */
export function expectNoInternals(text: string, sent = ''): void {
  const leaks = [...text.matchAll(INTERNALS)].map((match) => match[0]).filter((found) => !sent.toLowerCase().includes(found.toLowerCase()));
  expect(leaks, text).to.deep.equal([]);
}
