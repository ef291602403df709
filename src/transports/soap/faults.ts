// Every soap:Fault this service sends is written here, whether the failure happened before
// the envelope was read (authentication, size, content type, hostile XML) or in an operation, so that
// all faults are byte-for-byte the same shape: faultcode, the contract's message as
// faultstring, and detail/ErrorCode holding the ERROR_* code, as the WSDL's ApiFault declares.
import type { ApiError } from '../../errors.js';
import { EnvelopeError } from './envelopeReader.js';

export const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8';

/**
 * WS-I BP 1.1 R1126: a fault answers 500. The contract keeps 401 and 429. Problems found
 * before the message is read as SOAP keep their HTTP status too, as R1113/R1115 ask: 400 for
 * XML that is not well-formed (or hostile), 405, 413 and 415.
 */
function faultStatus(error: ApiError): number {
  if (error instanceof EnvelopeError) return error.httpStatus;
  if ([401, 413, 415, 429].includes(error.status)) return error.status;
  return 500;
}

function faultCode(error: ApiError): string {
  if (error instanceof EnvelopeError && error.faultCode !== 'Client') return error.faultCode;
  return error.isClientFault ? 'Client' : 'Server';
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function soapFault(error: ApiError): { status: number; body: string } {
  const body =
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>' +
    `<faultcode>soap:${faultCode(error)}</faultcode>` +
    `<faultstring>${escapeXml(error.contractMessage)}</faultstring>` +
    `<detail><ErrorCode xmlns="urn:dualgate:v2">${error.code}</ErrorCode></detail>` +
    '</soap:Fault></soap:Body></soap:Envelope>';
  return { status: faultStatus(error), body };
}
