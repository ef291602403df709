// The WSDL and the operation table held against each other (as Apache CXF keeps its contract
// a view of the service): every operation in both, with the same names, fields, types and
// optionality, and the WSDL plain WS-I Basic Profile 1.1 (document/literal wrapped, one
// inline schema, no imports, every element typed).
import { expect } from 'chai';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { operations } from '../src/operations/index.js';
import { soapElementName, toJsonSchema, unwrapNullable, type JsonSchema } from '../src/operations/jsonSchema.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { childElements } from './support/soap.js';
import { send } from './support/http.js';

const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const WSDL_SOAP = 'http://schemas.xmlsoap.org/wsdl/soap/';
const XS = 'http://www.w3.org/2001/XMLSchema';

function parseStrict(xml: string): Element {
  const problems: string[] = [];
  const document = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') problems.push(message);
    },
  }).parseFromString(xml, 'text/xml');
  expect(problems, 'the WSDL is well-formed XML').to.deep.equal([]);
  return document.documentElement as Element;
}

function all(root: Element, namespace: string, name: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(namespace, name)) as Element[];
}

function named(elements: Element[], name: string): Element | undefined {
  return elements.find((element) => element.getAttribute('name') === name);
}

describe('WSDL ↔ operation table', () => {
  let gateway: TestGateway;
  let wsdlText: string;
  let root: Element;
  let schema: Element;

  before(async () => {
    gateway = await startTestGateway();
    const response = await fetch(`${gateway.baseUrl}/v2/api.svc?wsdl`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/xml/);
    wsdlText = await response.text();
    root = parseStrict(wsdlText);
    const schemas = all(root, XS, 'schema');
    expect(schemas, 'one inline schema').to.have.length(1);
    schema = schemas[0]!;
  });
  after(() => gateway.close());

  const complexType = (qname: string | null) => {
    const [, local] = (qname ?? "").split(':');
    const type = childElements(schema).find((element) => element.localName === 'complexType' && element.getAttribute('name') === local);
    if (!type) throw new Error(`complexType ${qname} is not in the schema`);
    return type;
  };
  const sequence = (type: Element) => {
    const children = childElements(type);
    expect(children.map((child) => child.localName), 'a complexType is one xs:sequence').to.deep.equal(['sequence']);
    return childElements(children[0]!);
  };

  /** Holds a sequence of xs:elements against an object's JSON Schema, recursively. */
  function expectSequenceMatches(elements: Element[], object: JsonSchema, nameOf: (field: string) => string, where: string) {
    const fields = Object.keys(object.properties ?? {});
    expect(elements.map((element) => element.getAttribute('name')), `${where}: element names and order`).to.deep.equal(fields.map(nameOf));
    fields.forEach((field, index) => {
      const element = elements[index]!;
      const fieldSchema = object.properties![field]!;
      const { schema: node, nullable } = unwrapNullable(fieldSchema);
      const optional = !(object.required ?? []).includes(field);
      const at = `${where}/${nameOf(field)}`;
      expect(element.getAttribute('minOccurs') || '1', `${at}: minOccurs`).to.equal(optional ? '0' : '1');
      expect(element.getAttribute('nillable') === 'true', `${at}: nillable`).to.equal(nullable);
      expectTyped(element.getAttribute('type'), node, at);
    });
  }

  function expectTyped(type: string | null, node: JsonSchema, at: string) {
    if (node.type === 'object') {
      expect(type, `${at}: type`).to.equal(`tns:${node.xmlType}`);
      expectSequenceMatches(sequence(complexType(type)), node, soapElementName, type ?? at);
    } else if (node.type === 'array') {
      expect(type, `${at}: type`).to.equal(`tns:${node.xmlType}`);
      const items = sequence(complexType(type));
      expect(items, `${type} holds one repeated element`).to.have.length(1);
      expect(items[0]!.getAttribute('name')).to.equal(node.xmlItem);
      expect(items[0]!.getAttribute('minOccurs')).to.equal('0');
      expect(items[0]!.getAttribute('maxOccurs')).to.equal('unbounded');
      expectTyped(items[0]!.getAttribute('type'), unwrapNullable(node.items ?? {}).schema, `${type}/${node.xmlItem}`);
    } else if (node.type === 'boolean') {
      expect(type, `${at}: type`).to.equal('xs:boolean');
    } else if (node.type === 'integer') {
      expect(type, `${at}: type`).to.equal('xs:int');
    } else if (node.type === 'string' && node.format === 'date-time') {
      expect(type, `${at}: type`).to.equal('xs:dateTime');
    } else {
      expect(node.type, `${at}: JSON type`).to.equal('string');
      expect(type, `${at}: type`).to.equal('xs:string');
    }
  }

  it('is WS-I plain: document/literal over HTTP, no imports, every element typed, qualified elements', () => {
    expect(root.namespaceURI).to.equal(WSDL);
    expect(root.getAttribute('targetNamespace')).to.equal('urn:dualgate:v2');
    expect(schema.getAttribute('targetNamespace')).to.equal('urn:dualgate:v2');
    expect(schema.getAttribute('elementFormDefault')).to.equal('qualified');
    expect(all(root, WSDL, 'import')).to.have.length(0);
    expect(all(root, XS, 'import').length + all(root, XS, 'include').length).to.equal(0);
    for (const element of all(schema, XS, 'element')) {
      const inlineType = childElements(element).some((child) => child.localName === 'complexType');
      expect(element.hasAttribute('type') || inlineType, `element ${element.getAttribute('name')} is typed`).to.equal(true);
    }
    const binding = all(root, WSDL_SOAP, 'binding');
    expect(binding).to.have.length(1);
    expect(binding[0]!.getAttribute('style')).to.equal('document');
    expect(binding[0]!.getAttribute('transport')).to.equal('http://schemas.xmlsoap.org/soap/http');
    for (const body of all(root, WSDL_SOAP, 'body')) expect(body.getAttribute('use')).to.equal('literal');
    for (const part of all(root, WSDL, 'part')) {
      expect(part.hasAttribute('element'), 'document/literal parts name elements').to.equal(true);
      expect(part.hasAttribute('type')).to.equal(false);
    }
    expect(all(root, WSDL_SOAP, 'address')).to.have.length(1);
  });

  it('names exactly the operations of the table, in the portType and the binding', () => {
    const names = operations.map((operation) => operation.name).sort();
    const portType = all(root, WSDL, 'portType');
    expect(portType).to.have.length(1);
    expect(childElements(portType[0]!).map((op) => op.getAttribute('name')).sort()).to.deep.equal(names);
    const binding = all(root, WSDL, 'binding')[0]!;
    expect(childElements(binding).filter((child) => child.localName === 'operation').map((op) => op.getAttribute('name')).sort()).to.deep.equal(names);
  });

  for (const operation of operations) {
    it(`declares ${operation.name} as the table does`, () => {
      const topElements = childElements(schema).filter((element) => element.localName === 'element');
      // The request wrapper: the table's input fields, under their own (REST) names.
      const request = named(topElements, operation.name);
      expect(request, `element ${operation.name}`).to.not.equal(undefined);
      expectSequenceMatches(sequence(childElements(request!)[0]!), toJsonSchema(operation.input, 'input'), (field) => field, operation.name);
      // The response wrapper: one <Op>Result of the result's type, or nothing.
      const response = named(topElements, `${operation.name}Response`);
      expect(response, `element ${operation.name}Response`).to.not.equal(undefined);
      const result = sequence(childElements(response!)[0]!);
      if (operation.result === null) {
        expect(result).to.have.length(0);
      } else {
        expect(result.map((element) => element.getAttribute('name'))).to.deep.equal([`${operation.name}Result`]);
        expectTyped(result[0]!.getAttribute('type'), unwrapNullable(toJsonSchema(operation.result, 'output')).schema, `${operation.name}Result`);
      }
      // Messages, portType and binding wire the wrappers to the operation.
      const messages = all(root, WSDL, 'message');
      const partOf = (message: string) => childElements(named(messages, message)!)[0]!;
      expect(partOf(`${operation.name}SoapIn`).getAttribute('element')).to.equal(`tns:${operation.name}`);
      expect(partOf(`${operation.name}SoapOut`).getAttribute('element')).to.equal(`tns:${operation.name}Response`);
      const portOperation = named(childElements(all(root, WSDL, 'portType')[0]!), operation.name)!;
      expect(childElements(portOperation).map((child) => `${child.localName}:${child.getAttribute('message')}`)).to.deep.equal([
        `input:tns:${operation.name}SoapIn`,
        `output:tns:${operation.name}SoapOut`,
        'fault:tns:ApiFault',
      ]);
      const bindingOperation = named(childElements(all(root, WSDL, 'binding')[0]!), operation.name)!;
      const soapOperation = childElements(bindingOperation).find((child) => child.namespaceURI === WSDL_SOAP)!;
      expect(soapOperation.getAttribute('soapAction')).to.equal(`urn:dualgate:v2/ApiService/${operation.name}`);
    });
  }

  it('declares no type that no operation uses', () => {
    const used = new Set((wsdlText.match(/type="tns:([A-Za-z]+)"/g) ?? []).map((match) => match.slice(10, -1)));
    const declared = childElements(schema).filter((element) => element.localName === 'complexType').map((type) => type.getAttribute('name'));
    expect(declared.filter((name) => !used.has(name ?? ""))).to.deep.equal([]);
  });

  it('declares the fault detail: one ErrorCode element, the ApiFault message', () => {
    const errorCode = named(childElements(schema).filter((element) => element.localName === 'element'), 'ErrorCode');
    expect(errorCode?.getAttribute('type')).to.equal('xs:string');
    const fault = named(all(root, WSDL, 'message'), 'ApiFault')!;
    expect(childElements(fault)[0]!.getAttribute('element')).to.equal('tns:ErrorCode');
  });

  it('gives as soap:address the URL the server is really reached at', async () => {
    const address = all(root, WSDL_SOAP, 'address')[0]!.getAttribute('location');
    expect(address).to.equal(`${gateway.baseUrl}/v2/api.svc`);
    const viaLocalhost = await (await fetch(`${gateway.baseUrl.replace('127.0.0.1', 'localhost')}/v2/api.svc?wsdl`)).text();
    expect(viaLocalhost).to.include(`location="${gateway.baseUrl.replace('127.0.0.1', 'localhost')}/v2/api.svc"`);
  });

  it('gives PUBLIC_URL as soap:address when it is set, whatever the Host', async () => {
    const behindProxy = await startTestGateway({ env: { PUBLIC_URL: 'https://api.example.com/' } });
    try {
      const { text } = await send(behindProxy.app, 'GET', '/v2/api.svc?wsdl', {});
      expect(text).to.include('location="https://api.example.com/v2/api.svc"');
    } finally {
      await behindProxy.close();
    }
  });

  it('never echoes a crafted Host header into the WSDL', async () => {
    const { request } = await import('node:http');
    const text = await new Promise<string>((resolve, reject) => {
      const url = new URL(`${gateway.baseUrl}/v2/api.svc?wsdl`);
      const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: { Host: 'evil.example"><x y="' } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    parseStrict(text);
    expect(text).to.not.include('evil.example');
    expect(text).to.include(`location="${gateway.baseUrl}/v2/api.svc"`);
  });
});
