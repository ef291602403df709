// The envelope of a successful SOAP response: document/literal wrapped, as the WSDL declares,
// the operation's `<Name>Response` wrapper (in urn:dualgate:v2) holding its `<Name>Result`.
// xsi is declared for the `xsi:nil` of null fields (see resultXml).
import { TARGET_NAMESPACE } from './xmlMapping.js';

const OPEN =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>';
const CLOSE = '</soap:Body></soap:Envelope>';

/** `resultXml` is the `<Name>Result` element, or empty for an operation without a result. */
export function responseEnvelope(operationName: string, resultXml: string): string {
  const wrapper = `${operationName}Response`;
  return `${OPEN}<${wrapper} xmlns="${TARGET_NAMESPACE}">${resultXml}</${wrapper}>${CLOSE}`;
}
