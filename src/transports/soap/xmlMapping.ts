// Between the operation table's values (REST shape) and SOAP's XML, driven by the schemas:
// element names are the REST names in PascalCase (the wrapper's own children keep their
// REST names), arrays are wrapped item by item in their `xmlItem` element.
import { errors, ParameterError } from '../../errors.js';
import { soapElementName, unwrapNullable, type JsonSchema } from '../../operations/jsonSchema.js';
import { readText } from '../../operations/lexical.js';
import { XSI_NS, type XmlElement } from './envelopeReader.js';

export const TARGET_NAMESPACE = 'urn:dualgate:v2';

type Path = ReadonlyArray<string | number>;

/** The operation's input from its wrapper element, its lexical values read as XML Schema says. */
export function inputFromXml(wrapper: XmlElement, schema: JsonSchema): unknown {
  if (wrapper.children.length === 0 && wrapper.text.trim() !== '') {
    throw errors.invalidParameter(`The element ${wrapper.name} holds text; it takes only the elements the WSDL declares for it.`);
  }
  return readObject(wrapper, schema, [], (field) => field);
}

/**
 * A field of the XML that the schema does not know, named as it was sent: the SOAP door's
 * renaming of a path (REST names to element names) would turn `password` into `Password`, the
 * very element that is known.
 */
class UnknownElementError extends ParameterError {
  override renamed(): ParameterError {
    return this;
  }
}

function readValue(element: XmlElement, schema: JsonSchema, path: Path): unknown {
  const nil = element.attributes.get(`{${XSI_NS}}nil`)?.trim(); // an xs:boolean (envelopeReader.ts checked it)
  if (nil === 'true' || nil === '1') return null;
  const { schema: node } = unwrapNullable(schema);
  if (node.type === 'object') return readObject(element, node, path, soapElementName);
  if (node.type === 'array') return readArray(element, node, path);
  if (element.children.length > 0) return {}; // elements where text belongs: the check names the field
  return readText(element.text, node.type);
}

function readObject(element: XmlElement, schema: JsonSchema, path: Path, nameOf: (field: string) => string): unknown {
  if (element.children.length === 0 && element.text.trim() !== '') return element.text;
  const fieldByElement = new Map(Object.keys(schema.properties ?? {}).map((field) => [nameOf(field), field]));
  const result: Record<string, unknown> = {};
  for (const child of element.children) {
    const field = fieldByElement.get(child.name);
    if (field === undefined || child.namespace !== TARGET_NAMESPACE) {
      const where = child.namespace === TARGET_NAMESPACE ? '' : ` in namespace "${child.namespace}"`;
      const named = path.length === 0 ? child.name : `${soapFieldName(path)}/${child.name}`;
      throw new UnknownElementError([...path, child.name], `is not a known field${where}`, `The field '${named}' is not a known field${where}.`);
    }
    if (Object.hasOwn(result, field)) throw new ParameterError([...path, field], 'must appear only once');
    result[field] = readValue(child, schema.properties?.[field] ?? {}, [...path, field]);
  }
  return result;
}

function readArray(element: XmlElement, schema: JsonSchema, path: Path): unknown {
  // Text where items belong: the check refuses it as not a list. Read as no items, it would
  // have been an empty list (an IP allowlist of "192.0.2.1" stored as [], any address).
  if (element.children.length === 0 && element.text.trim() !== '') return element.text;
  return element.children.map((child, index) => {
    if (child.name !== schema.xmlItem || child.namespace !== TARGET_NAMESPACE) {
      throw new ParameterError([...path, index], `must be a ${schema.xmlItem} element`);
    }
    return readValue(child, schema.items ?? {}, [...path, index]);
  });
}

/**
 * The writer of a result as its `<Name>Result` element, which node-soap puts inside the
 * operation's response wrapper (the service method returns it as `$xml`). Written here rather
 * than by node-soap's schema-walking serializer, which passes any string that looks like a
 * CDATA section through unescaped (an XML injection: `<![CDATA[x]]><evil/><![CDATA[y]]>` in a
 * description would come out as an element). The element declares the namespaces it uses
 * itself (its children are unprefixed, in urn:dualgate:v2; null fields carry xsi:nil), so it
 * means the same in any wrapper. The schema is walked once, here, not on every call.
 */
export function resultWriter(schema: JsonSchema, elementName: string): (value: unknown) => string {
  return elementWriter(schema, elementName, ` xmlns="${TARGET_NAMESPACE}" xmlns:xsi="${XSI_NS}"`);
}

function elementWriter(schema: JsonSchema, elementName: string, declarations = ''): (value: unknown) => string {
  const open = `<${elementName}${declarations}>`;
  const close = `</${elementName}>`;
  const nil = `<${elementName}${declarations} xsi:nil="true"/>`;
  const text = (value: unknown) => `${open}${escapeXmlText(String(value))}${close}`;
  const { schema: node } = unwrapNullable(schema);
  if (node.type === 'array') {
    const writeItem = elementWriter(node.items ?? {}, node.xmlItem ?? 'item');
    return (value) => {
      if (value === null || value === undefined) return nil;
      return Array.isArray(value) ? `${open}${value.map(writeItem).join('')}${close}` : text(value);
    };
  }
  if (node.type === 'object') {
    const fields = Object.entries(node.properties ?? {}).map(([field, fieldSchema]) => ({
      field,
      write: elementWriter(fieldSchema, soapElementName(field)),
    }));
    return (value) => {
      if (value === null || value === undefined) return nil;
      if (typeof value !== 'object') return text(value);
      const source = value as Record<string, unknown>;
      let content = '';
      for (const { field, write } of fields) {
        if (source[field] !== undefined) content += write(source[field]);
      }
      return `${open}${content}${close}`;
    };
  }
  return (value) => (value === null || value === undefined ? nil : text(value));
}

/** Text content: markup escaped, and CR kept as a reference so that parsers do not drop it. */
function escapeXmlText(text: string): string {
  return text.replace(/[&<>\r]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : char === '>' ? '&gt;' : '&#13;'));
}

/** How SOAP names a field of the input: `apiUser/Description`, `ids[2]`. */
export function soapFieldName(path: Path): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment + 1}]`;
      return index === 0 ? segment : `/${soapElementName(segment)}`;
    })
    .join('');
}
