// Text forms of typed values, as XML Schema reads them (SOAP elements) and as REST query
// strings carry them. A text that is no valid form is passed on unchanged, so that the
// input check reports the field as being of the wrong type.

/** xs:boolean: true, false, 1, 0 (surrounding whitespace collapses). */
export function readBooleanText(text: string): boolean | string {
  const lexical = text.trim();
  if (lexical === 'true' || lexical === '1') return true;
  if (lexical === 'false' || lexical === '0') return false;
  return text;
}

/** xs:int and friends: optional sign and digits; the range is the input check's business. */
export function readIntegerText(text: string): number | string {
  const lexical = text.trim();
  return /^[+-]?\d{1,16}$/.test(lexical) ? Number(lexical) : text;
}

/** The typed value of a text, for a field of the given JSON Schema type. */
export function readText(text: string, type: string | string[] | undefined): unknown {
  if (type === 'boolean') return readBooleanText(text);
  if (type === 'integer') return readIntegerText(text);
  return text;
}
