// A test's SOAP client by hand: envelopes built and responses read the way the WSDL
// declares them, with an XML parser of its own (xmldom), not the code under test.
import { DOMParser, type Element } from '@xmldom/xmldom';
import { soapElementName, unwrapNullable, type JsonSchema } from '../../src/operations/jsonSchema.js';
import { send, type HttpTarget } from './http.js';

export const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
export const TNS = 'urn:dualgate:v2';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

export interface Credentials {
  username: string;
  password: string;
}

export function basicAuth(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

export function envelope(operation: string, innerXml = ''): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><${operation} xmlns="${TNS}">${innerXml}</${operation}></soap:Body></soap:Envelope>`
  );
}

export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The wrapper's children for an input given in REST shape, as the WSDL lays them out. */
export function inputXml(input: Record<string, unknown>, schema: JsonSchema): string {
  return Object.entries(input)
    .map(([field, value]) => valueXml(field, value, schema.properties?.[field] ?? {}))
    .join('');
}

function valueXml(name: string, value: unknown, schema: JsonSchema): string {
  const node = unwrapNullable(schema).schema;
  if (value === null) return `<${name} xmlns:xsi="${XSI}" xsi:nil="true"/>`;
  if (Array.isArray(value)) {
    return `<${name}>${value.map((item) => valueXml(node.xmlItem ?? 'item', item, node.items ?? {})).join('')}</${name}>`;
  }
  if (typeof value === 'object' && value !== null) {
    const inner = Object.entries(value)
      .map(([field, fieldValue]) => valueXml(soapElementName(field), fieldValue, node.properties?.[field] ?? {}))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeText(String(value))}</${name}>`;
}

export interface SoapResponse {
  status: number;
  headers: Headers;
  text: string;
  body: Element;
  fault?: { faultcode: string; faultstring: string; errorCode: string };
}

export async function soapPost(
  target: HttpTarget,
  credentials: Credentials | null,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<SoapResponse> {
  const response = await send(
    target,
    'POST',
    '/v2/api.svc',
    {
      'Content-Type': 'text/xml; charset=utf-8',
      ...(credentials ? { Authorization: basicAuth(credentials) } : {}),
      ...headers,
    },
    body,
  );
  return { status: response.status, headers: response.headers, text: response.text, ...readEnvelope(response.text) };
}

export async function soapCall(
  target: HttpTarget,
  credentials: Credentials | null,
  operation: string,
  innerXml = '',
  headers: Record<string, string> = {},
): Promise<SoapResponse> {
  return soapPost(target, credentials, envelope(operation, innerXml), {
    SOAPAction: `"urn:dualgate:v2/ApiService/${operation}"`,
    ...headers,
  });
}

export function readEnvelope(text: string): { body: Element; fault?: SoapResponse['fault'] } {
  const document = new DOMParser().parseFromString(text, 'text/xml');
  const root = document.documentElement;
  if (!root || root.namespaceURI !== SOAP_ENV || root.localName !== 'Envelope') throw new Error(`not a SOAP envelope: ${text}`);
  const body = childElements(root).find((child) => child.localName === 'Body' && child.namespaceURI === SOAP_ENV);
  if (!body) throw new Error(`no soap:Body: ${text}`);
  const fault = childElements(body).find((child) => child.localName === 'Fault' && child.namespaceURI === SOAP_ENV);
  if (!fault) return { body };
  const part = (name: string) => childElements(fault).find((child) => child.localName === name && !child.namespaceURI);
  const errorCode = childElements(part('detail') ?? fault).find((child) => child.localName === 'ErrorCode' && child.namespaceURI === TNS);
  return {
    body,
    fault: {
      faultcode: part('faultcode')?.textContent ?? '',
      faultstring: part('faultstring')?.textContent ?? '',
      errorCode: errorCode?.textContent ?? '',
    },
  };
}

export function childElements(element: Element): Element[] {
  const result: Element[] = [];
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) result.push(node as Element);
  }
  return result;
}

/** The response wrapper's <OpResult>, read into REST shape by the result's schema. */
export function soapResult(response: SoapResponse, operation: string, schema: JsonSchema | null): unknown {
  const wrapper = childElements(response.body)[0];
  if (!wrapper || wrapper.localName !== `${operation}Response` || wrapper.namespaceURI !== TNS) {
    throw new Error(`expected ${operation}Response: ${response.text}`);
  }
  const children = childElements(wrapper);
  if (!schema) {
    if (children.length > 0) throw new Error(`expected an empty ${operation}Response: ${response.text}`);
    return undefined;
  }
  const result = children[0];
  if (children.length !== 1 || !result || result.localName !== `${operation}Result` || result.namespaceURI !== TNS) {
    throw new Error(`expected one ${operation}Result: ${response.text}`);
  }
  return readValue(result, schema);
}

function readValue(element: Element, schema: JsonSchema): unknown {
  if (element.getAttributeNS(XSI, 'nil') === 'true') return null;
  const node = unwrapNullable(schema).schema;
  const children = childElements(element);
  for (const child of children) {
    if (child.namespaceURI !== TNS) throw new Error(`element ${child.localName} is not in ${TNS}`);
  }
  if (node.type === 'array') {
    return children.map((child) => {
      if (child.localName !== node.xmlItem) throw new Error(`expected ${node.xmlItem}, got ${child.localName}`);
      return readValue(child, node.items ?? {});
    });
  }
  if (node.type === 'object') {
    const result: Record<string, unknown> = {};
    const fields = Object.keys(node.properties ?? {});
    let position = 0;
    for (const child of children) {
      const field = fields.find((candidate) => soapElementName(candidate) === child.localName);
      if (!field) throw new Error(`unexpected element ${child.localName}`);
      const index = fields.indexOf(field);
      if (index < position) throw new Error(`element ${child.localName} out of the declared order`);
      position = index;
      result[field] = readValue(child, node.properties?.[field] ?? {});
    }
    return result;
  }
  const text = element.textContent ?? '';
  if (node.type === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new Error(`not an xs:boolean: ${text}`);
    return text === 'true';
  }
  if (node.type === 'integer') return Number(text);
  return text;
}
