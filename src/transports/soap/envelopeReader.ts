// Reads a SOAP 1.1 request (with saxes: strict XML 1.0 and namespaces, and about five times
// as fast as the sax that node-soap uses). This is where hostile XML stops: a
// DOCTYPE (and with it every entity trick, XXE and 'billion laughs'; SOAP 1.1 forbids DTDs
// anyway), nesting deeper than MAX_DEPTH, over-long names, malformed XML; and what node-soap's
// parser, which reads the request after this one, trips over: elements holding both text and
// elements, Object.prototype's members named by elements, ids, hrefs and xsi:types (see
// isObjectMember), CDATA sections holding XML. What passes is a small tree of the payload,
// with its namespaces resolved, from which the door takes the operation's input exactly as
// sent (node-soap's own reading trims text and guesses types), and the envelope's text
// without its header, which is all node-soap is given.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { ApiError } from '../../errors.js';

export const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

const MAX_DEPTH = 64;
const MAX_NAME_LENGTH = 256;
const MAX_ATTRIBUTES = 64;
/**
 * node-soap's parser, which reads what passes here, takes a CDATA section holding an XML
 * declaration for an XML document of its own and parses that too, past every check here.
 */
const XML_DECLARATION = /<\?xml[\s\S]+\?>/;

export interface XmlElement {
  namespace: string;
  name: string;
  /** Attributes by `{namespace}name` (namespace declarations left out). */
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
}

export interface SoapRequest {
  /** The single child of soap:Body: the operation's wrapper element. */
  payload: XmlElement;
  /** Header blocks, by namespace and name, all of them (headerBlocks.ts says which are for this service). */
  headers: XmlElement[];
  /** The envelope as sent, without its soap:Header element (all of it when there is none). */
  withoutHeader: string;
}

/**
 * A problem with the message itself, always the caller's: a soap:Client fault, or
 * VersionMismatch / MustUnderstand. `httpStatus` is 400 (or 405) for what is refused before
 * the message is read as SOAP, and 500 for a SOAP message that is wrong (WS-I R1126).
 */
export class EnvelopeError extends ApiError {
  constructor(
    readonly httpStatus: 400 | 405 | 500,
    sentence: string,
    readonly faultCode: 'Client' | 'VersionMismatch' | 'MustUnderstand' = 'Client',
  ) {
    super(httpStatus === 500 ? 400 : httpStatus, 'ERROR_PARAMETER_INVALID', sentence);
  }
}

const malformed = (detail: string) => new EnvelopeError(400, `The request is not well-formed XML: ${detail}.`);
// No element of a SOAP 1.1 envelope, nor of this service's messages, holds both text and
// elements; node-soap's parser, which reads the request after this one, fails on such XML in
// ways that would quote its own internals.
const mixedContent = (element: XmlElement) =>
  new EnvelopeError(500, `The element ${element.name} holds both text and elements; this service's messages never mix them.`);

export function readSoapRequest(sent: string): SoapRequest {
  if (sent.trim() === '') throw new EnvelopeError(400, 'The request body is empty; send a SOAP 1.1 envelope.');
  // Without it here too, so that the header's span (read from the parse) is one of this text.
  const body = withoutByteOrderMark(sent);
  const xmlReader = (reader ??= new XmlReader());
  const root = xmlReader.read(body);
  if (root.name !== 'Envelope' || root.namespace !== SOAP11_ENVELOPE_NS) {
    if (root.name === 'Envelope' && root.namespace === SOAP12_ENVELOPE_NS) {
      throw new EnvelopeError(
        500,
        'This endpoint serves SOAP 1.1 only; send a SOAP 1.1 envelope (namespace http://schemas.xmlsoap.org/soap/envelope/) as text/xml.',
        'VersionMismatch',
      );
    }
    if (root.name === 'Envelope') {
      throw new EnvelopeError(500, 'The envelope is not in the SOAP 1.1 namespace (http://schemas.xmlsoap.org/soap/envelope/).', 'VersionMismatch');
    }
    throw new EnvelopeError(500, 'The request is not a SOAP envelope.');
  }
  const parts = root.children;
  const header = parts.length > 0 && isEnvelopePart(parts[0], 'Header') ? parts[0] : undefined;
  const soapBody = parts[header ? 1 : 0];
  if (!soapBody || !isEnvelopePart(soapBody, 'Body') || parts.length !== (header ? 2 : 1)) {
    throw new EnvelopeError(500, 'The envelope must hold an optional soap:Header and then one soap:Body, and nothing else.');
  }
  if (soapBody.children.length !== 1 || soapBody.children[0] === undefined) {
    throw new EnvelopeError(500, 'The soap:Body must hold exactly one element: the operation to call.');
  }
  // node-soap drops a nil element, the envelope or body or wrapper with it, and then fails on
  // the empty message quoting its own internals. None of the three can be nil.
  for (const element of [root, soapBody, soapBody.children[0]]) {
    if (element.attributes.has(`{${XSI_NS}}nil`)) throw new EnvelopeError(500, `The ${element.name} element must not carry xsi:nil: it is the message itself, never a value.`);
  }
  const [start, end] = xmlReader.firstChildSpan;
  const withoutHeader = header ? body.slice(0, start) + body.slice(end) : body;
  return { payload: soapBody.children[0], headers: header?.children ?? [], withoutHeader };
}

function isEnvelopePart(element: XmlElement | undefined, name: string): element is XmlElement {
  return element !== undefined && element.name === name && element.namespace === SOAP11_ENVELOPE_NS;
}

/** A strict, namespace-aware parse that refuses DTDs and bounds depth and names. */
export function parseXml(xml: string): XmlElement {
  return (reader ??= new XmlReader()).read(xml);
}

let reader: XmlReader | undefined;

/**
 * One saxes parser, its handlers set once and reused for every document: building a parser
 * and registering its handlers per request cost more than the parse itself. Parsing is
 * synchronous, so one reader serves every request; one that stopped half-way is replaced.
 *
 * Six handlers, no more, and none for 'error' (saxes then throws its well-formedness errors,
 * caught in read()): saxes stores each handler as a property added to the parser, and a
 * seventh tips the parser object into V8's dictionary mode, where every field access of the
 * parse is a hash lookup: 3.5 times slower per envelope (14 µs instead of 4 here).
 */
export class XmlReader {
  private parser = this.newParser();
  private stack: XmlElement[] = [];
  private root: XmlElement | undefined;
  private failure: ApiError | undefined;
  private text = '';
  /**
   * Where the root's first child (an envelope's soap:Header, when it has one) starts and ends
   * in the text read last, as string indexes: [start, end).
   */
  firstChildSpan: [number, number] = [-1, -1];

  read(xml: string): XmlElement {
    this.stack = [];
    this.root = undefined;
    this.failure = undefined;
    this.firstChildSpan = [-1, -1];
    this.text = withoutByteOrderMark(xml);
    try {
      this.parser.write(this.text).close();
    } catch (error) {
      this.parser = this.newParser();
      if (this.failure) throw this.failure;
      // Not ours: saxes's own refusal of XML that is not well-formed.
      throw malformed((error instanceof Error ? error.message : String(error)).replace(/^[^:]*:\d+:\d+: /, '').replace(/\.$/, ''));
    }
    if (!this.root) throw malformed('there is no root element');
    return this.root;
  }

  private fail(error: ApiError): never {
    this.failure ??= error;
    throw error; // stops the parser at once; caught in read()
  }

  private newParser(): SaxesParser<{ xmlns: true }> {
    const parser = new SaxesParser({ xmlns: true });
    parser.on('doctype', () => this.fail(new EnvelopeError(400, 'The request holds a DOCTYPE; DTDs and entity declarations are not allowed in SOAP messages.')));
    parser.on('processinginstruction', () => this.fail(new EnvelopeError(400, 'Processing instructions are not allowed in SOAP messages.')));
    parser.on('opentag', (tag: SaxesTagNS) => {
      // A start tag runs from its '<' to here (an attribute value cannot hold a '<').
      if (this.stack.length === 1 && this.root?.children.length === 0) this.firstChildSpan[0] = this.text.lastIndexOf('<', parser.position - 1);
      this.open(tag);
    });
    parser.on('closetag', () => {
      if (this.stack.length === 2 && this.root?.children.length === 1) this.firstChildSpan[1] = parser.position;
      this.stack.pop();
    });
    const addText = (text: string) => {
      const current = this.stack[this.stack.length - 1];
      if (!current) return;
      if (current.children.length > 0 && /\S/.test(text)) this.fail(mixedContent(current));
      current.text += text;
    };
    parser.on('text', addText);
    parser.on('cdata', (text: string) => {
      if (XML_DECLARATION.test(text)) this.fail(new EnvelopeError(400, 'A CDATA section holds an XML declaration; XML documents inside a message are not accepted.'));
      addText(text);
    });
    return parser;
  }

  private open(tag: SaxesTagNS): void {
    if (this.stack.length >= MAX_DEPTH) this.fail(new EnvelopeError(400, `The XML is nested deeper than ${MAX_DEPTH} levels.`));
    if (tag.name.length > MAX_NAME_LENGTH) this.fail(new EnvelopeError(400, `An XML name is longer than ${MAX_NAME_LENGTH} characters.`));
    if (isObjectMember(tag.local)) this.fail(new EnvelopeError(400, `An XML element is named ${tag.local}, which this service does not accept.`));
    const attributeList = Object.values(tag.attributes);
    if (attributeList.length > MAX_ATTRIBUTES) this.fail(new EnvelopeError(400, `An XML element has more than ${MAX_ATTRIBUTES} attributes.`));
    const attributes = new Map<string, string>();
    for (const attribute of attributeList) {
      if (attribute.prefix === 'xmlns' || attribute.name === 'xmlns') continue;
      if ((attribute.name === 'id' || attribute.name === 'href') && isObjectMember(attribute.value.replace(/^#/, ''))) {
        this.fail(new EnvelopeError(400, `An XML ${attribute.name} attribute names ${attribute.value}, which this service does not accept.`));
      }
      // An xs:boolean, or a nil that node-soap (which takes any case of "true") and this door
      // would read differently.
      if (attribute.uri === XSI_NS && attribute.local === 'nil' && !/^\s*(true|false|1|0)\s*$/.test(attribute.value)) {
        this.fail(new EnvelopeError(500, `An xsi:nil attribute is "${attribute.value.slice(0, 40)}"; it must be true, false, 1 or 0.`));
      }
      // node-soap looks an xsi:type's prefix and name up in plain objects too.
      if (attribute.uri === XSI_NS && attribute.local === 'type' && attribute.value.split(':').some(isObjectMember)) {
        this.fail(new EnvelopeError(400, `An xsi:type attribute names ${attribute.value}, which this service does not accept.`));
      }
      attributes.set(`{${attribute.uri}}${attribute.local}`, attribute.value);
    }
    const element: XmlElement = { namespace: tag.uri, name: tag.local, attributes, children: [], text: '' };
    const parent = this.stack[this.stack.length - 1];
    if (parent && /\S/.test(parent.text)) this.fail(mixedContent(parent));
    if (parent) parent.children.push(element);
    else this.root = element;
    this.stack.push(element);
  }
}

/**
 * node-soap reads element names, the `id` and `href` attributes of SOAP encoding's
 * multi-references, and the prefix and name of an `xsi:type`, as keys of plain objects: one
 * naming a member of Object.prototype (`constructor`, `__proto__`, `toString`) makes it throw
 * (an xsi:type of `t:constructor`: a bare 500 quoting its internals), or write onto a built-in.
 */
function isObjectMember(name: string): boolean {
  return Object.hasOwn(Object.prototype, name);
}

/** A leading byte-order mark is legal in XML but not for sax. */
function withoutByteOrderMark(xml: string): string {
  return xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml;
}

