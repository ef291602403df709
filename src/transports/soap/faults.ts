// Every soap:Fault this service sends has the same content: faultcode, the contract's message
// as faultstring, and detail/ErrorCode holding the ERROR_* code, as the WSDL's ApiFault
// declares. Those found before node-soap sees the request (authentication, size, content
// type, hostile XML, an envelope that names no operation) are written here whole; those of an
// operation are handed to node-soap as its `Fault`, with the same parts already written as
// XML, and node-soap puts them in its envelope.
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

const faultstringXml = (error: ApiError) => escapeXml(error.contractMessage);
const detailXml = (error: ApiError) => `<ErrorCode xmlns="urn:dualgate:v2">${error.code}</ErrorCode>`;

/** A whole fault response, for what is refused before node-soap. */
export function soapFault(error: ApiError): { status: number; body: string } {
  const body =
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>' +
    `<faultcode>soap:${faultCode(error)}</faultcode>` +
    `<faultstring>${faultstringXml(error)}</faultstring>` +
    `<detail>${detailXml(error)}</detail>` +
    '</soap:Fault></soap:Body></soap:Envelope>';
  return { status: faultStatus(error), body };
}

/** node-soap's `Fault` object: the parts as XML (`$xml`: written as given), and the status. */
export interface NodeSoapFault {
  faultcode: string;
  faultstring: { $xml: string };
  detail: { $xml: string };
  /** Without it node-soap answers a fault with HTTP 200. */
  statusCode: number;
}

/**
 * What a service method rejects with for node-soap to answer with a fault: node-soap looks
 * for a `Fault` property, and answers anything else with a fault of its own shape that
 * quotes the error.
 */
export class OperationFault extends Error {
  readonly Fault: NodeSoapFault;

  constructor(error: ApiError) {
    super(error.contractMessage);
    this.Fault = {
      // The prefix node-soap's envelope binds to the SOAP 1.1 namespace (envelopeKey, see soapDoor).
      faultcode: `soap:${faultCode(error)}`,
      faultstring: { $xml: faultstringXml(error) },
      detail: { $xml: detailXml(error) },
      statusCode: faultStatus(error),
    };
  }
}
