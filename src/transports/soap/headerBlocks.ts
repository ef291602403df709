// SOAP 1.1's rules for header blocks (section 4.2), for this service as the message's ultimate
// destination: which blocks are addressed to it (actor), and which of those it must understand
// or else answer with a MustUnderstand fault (mustUnderstand). The one block it understands is
// the WS-Security header (wsSecurity.ts); every other block addressed to it is ignored unless
// marked mustUnderstand.
import { EnvelopeError, SOAP11_ENVELOPE_NS, type XmlElement } from './envelopeReader.js';
import { isSecurityHeader } from './wsSecurity.js';

const ACTOR = `{${SOAP11_ENVELOPE_NS}}actor`;
const MUST_UNDERSTAND = `{${SOAP11_ENVELOPE_NS}}mustUnderstand`;
/** SOAP 1.1 4.2.2: the first SOAP application that processes the message, which this service is. */
const NEXT_ACTOR = 'http://schemas.xmlsoap.org/soap/actor/next';

/**
 * The header blocks addressed to this service, once none of them is one it must understand and
 * does not (a MustUnderstand fault).
 *
 * A block without an actor is for the ultimate destination, and one with the "next" actor for
 * the first application to process the message: both are this service, as no intermediary
 * stands before it. A block for any other actor is not for this service and is ignored, whatever
 * it is marked: SOAP 1.1 leaves such blocks to their actors.
 */
export function blocksForThisService(headers: readonly XmlElement[]): XmlElement[] {
  const ours: XmlElement[] = [];
  for (const block of headers) {
    const mustUnderstand = mustBeUnderstood(block);
    const actor = block.attributes.get(ACTOR);
    if (actor !== undefined && actor.trim() !== NEXT_ACTOR) continue;
    if (mustUnderstand && !isSecurityHeader(block)) {
      throw new EnvelopeError(500, `The header block ${block.name} is marked mustUnderstand, and this service does not understand it.`, 'MustUnderstand');
    }
    ours.push(block);
  }
  return ours;
}

/**
 * SOAP 1.1 (4.2.3, and its envelope schema: xs:boolean restricted to 0|1) defines "1" and "0"
 * only, absent meaning "0". "true" and "false" are read as the xs:boolean values they are (SOAP
 * 1.2 writes them, and some toolkits do in 1.1 too): the sender's intent is plain. Any other
 * value is a message this service cannot read safely either way (ignoring a block meant to be
 * mandatory is what mustUnderstand exists to prevent), so it is refused as the caller's fault.
 */
function mustBeUnderstood(block: XmlElement): boolean {
  const value = block.attributes.get(MUST_UNDERSTAND);
  if (value === undefined) return false;
  // xs:boolean's whitespace is collapsed before its lexical space applies.
  switch (value.trim()) {
    case '1':
    case 'true':
      return true;
    case '0':
    case 'false':
      return false;
    default:
      throw new EnvelopeError(500, `The header block ${block.name} has a mustUnderstand value other than "0" or "1", the two SOAP 1.1 defines.`);
  }
}
