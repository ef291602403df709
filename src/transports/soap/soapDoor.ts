// The SOAP door: node-soap's Server, on a router mounted at SOAP_PATH, with what node-soap
// lacks put in front of it. In order: the WSDL (public), 405 for any method but POST, the
// content type, HTTP Basic for calls with an Authorization header (soapGate.ts), a size-limited
// read of the body, the envelope reader, which refuses hostile XML, then SOAP's header rules
// (headerBlocks.ts), the WS-Security UsernameToken for calls without an Authorization header,
// and the operation, found by the body's element (never by SOAPAction: WS-I R1127). Only then
// does node-soap get the request, and dispatch it to the service object built from the
// operation table (soapService.ts). Every failure is one fault. docs/architecture.md lists what
// node-soap does and what the door does about it.
import { isUtf8 } from 'node:buffer';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { Server as SoapServer, WSDL, type IServerOptions, type IServices } from 'soap';
import { errors } from '../../errors.js';
import type { Operation } from '../../operations/define.js';
import { toJsonSchema } from '../../operations/jsonSchema.js';
import { checkPermission } from '../../operations/pipeline.js';
import { callState } from '../callState.js';
import type { DoorDependencies } from '../doorDependencies.js';
import { publicBaseUrl } from '../publicUrl.js';
import { EnvelopeError, readSoapRequest, type SoapRequest, type XmlElement } from './envelopeReader.js';
import { SOAP_CONTENT_TYPE, soapFault } from './faults.js';
import { blocksForThisService } from './headerBlocks.js';
import { soapGate } from './soapGate.js';
import { soapApiError } from './soapError.js';
import { PORT_NAME, SERVICE_NAME, soapService, type EnvelopeRead, type SoapOperation } from './soapService.js';
import { SOAP_PATH, WsdlDocument } from './wsdlDocument.js';
import { usernameTokenIn } from './wsSecurity.js';
import { inputFromXml, TARGET_NAMESPACE } from './xmlMapping.js';

/** A request's envelope as read, with the header blocks addressed to this service. */
interface Message {
  request: SoapRequest;
  blocks: XmlElement[];
}

export async function soapDoor(operations: readonly Operation[], dependencies: DoorDependencies): Promise<Router> {
  const { config, logger } = dependencies;
  const wsdl = new WsdlDocument();
  const tableOperations = operations.map((operation) => ({
    operation,
    input: toJsonSchema(operation.input, 'input'),
    result: operation.result && toJsonSchema(operation.result, 'output'),
  }));
  /** The operations served, by their element: those of the table the WSDL declares (filled once node-soap has read it). */
  const served = new Map<string, SoapOperation>();
  const envelopes = new WeakMap<Request, EnvelopeRead>();
  const messages = new WeakMap<Request, Message>();
  /** Requests the door has authenticated and read whole: the only ones node-soap may dispatch. */
  const admitted = new WeakSet<object>();
  const gate = soapGate(dependencies, (req) => usernameTokenIn(messages.get(req)?.blocks ?? []));
  const router = express.Router({ caseSensitive: true, strict: false });
  const readBody = express.raw({ type: () => true, limit: config.SOAP_BODY_LIMIT_BYTES });

  // Mounted at SOAP_PATH (see app.ts): '/' here is the endpoint itself. node-soap serves the
  // WSDL file as it is; this serves it with the address the caller reached it at.
  router.get('/', (req, res, next) => {
    const wantsWsdl = Object.keys(req.query).some((key) => /^(single)?wsdl$/i.test(key));
    if (!wantsWsdl) return next();
    res.type(SOAP_CONTENT_TYPE).send(wsdl.at(publicBaseUrl(req, config.PUBLIC_URL)));
  });

  // node-soap answers every method but POST with an empty 200.
  router.all('/', (req, res, next) => {
    if (req.method === 'POST') return next();
    res.set('Allow', 'GET, POST');
    next(new EnvelopeError(405, `Use POST to call the SOAP service, or GET ${SOAP_PATH}?wsdl for its WSDL.`));
  });

  const readEnvelope: RequestHandler = (req, _res, next) => {
    // node-soap would read an empty body from the request stream, which the body parser has
    // consumed already, and wait forever: readSoapRequest refuses it first, like hostile XML.
    const sent = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // XML in UTF-8 (the only charset the door takes): decoded, each bad byte would become U+FFFD.
    if (!isUtf8(sent)) throw new EnvelopeError(400, 'The request body is not valid UTF-8.');
    const request = readSoapRequest(sent.toString('utf8'));
    messages.set(req, { request, blocks: blocksForThisService(request.headers) });
    next();
  };

  // The operation is looked for, and its input read, only once the caller is authenticated: an
  // unauthenticated caller learns nothing of the operations or of what they take.
  const readOperation: RequestHandler = (req, res, next) => {
    const message = messages.get(req);
    if (!message) throw new Error('the envelope was not read before the operation');
    const { payload } = message.request;
    const soapOperation = payload.namespace === TARGET_NAMESPACE ? served.get(payload.name) : undefined;
    if (!soapOperation) {
      throw new EnvelopeError(500, `The SOAP body names no operation of this service (${payload.name}); see the WSDL at ${SOAP_PATH}?wsdl.`);
    }
    callState(res).operation = soapOperation.operation.name;
    // A caller without the permission is told only that, whatever its input.
    const { caller } = callState(res);
    if (caller) checkPermission(soapOperation.operation, caller);
    // Read here, before node-soap parses the payload, so that node-soap only ever parses the
    // elements the WSDL declares (an unknown or repeated one is refused now).
    envelopes.set(req, { operation: soapOperation, input: inputFromXml(payload, soapOperation.input) });
    if (callState(res).caller) admitted.add(req);
    handOverToNodeSoap(req, message.request.withoutHeader);
    next();
  };

  router.post('/', requireSoap11ContentType, gate.beforeBody, readBody, readEnvelope, gate.afterEnvelope, readOperation);

  const declared = await attachNodeSoap(
    router,
    wsdl.xml,
    soapService(tableOperations, dependencies, (req) => envelopes.get(req)),
    (req) => admitted.has(req),
  );
  // node-soap can dispatch only what the WSDL declares; the WSDL contract test keeps the
  // product's table and the WSDL equal, so this leaves out only a test's extra operations.
  for (const soapOperation of tableOperations) {
    if (declared.has(soapOperation.operation.name)) served.set(soapOperation.operation.name, soapOperation);
  }

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    sendSoapError(error, res, logger);
  });

  return router;
}

/**
 * node-soap picks the method by SOAPAction when one is sent, and copies the request's
 * Content-Type onto the response. The door has found the operation by the body's element
 * (WS-I R1127: the server must not depend on SOAPAction; a SOAPAction naming DeleteApiUser on a
 * GetApiUserById body must not delete) and checked the Content-Type: node-soap gets the request
 * without SOAPAction, so it dispatches by the body too, and with the Content-Type every
 * response carries.
 */
function handOverToNodeSoap(req: Request, envelopeWithoutHeader: string): void {
  // Emptied rather than deleted: a delete would turn the headers object into a slow one.
  req.headers.soapaction = undefined;
  req.headers['content-type'] = SOAP_CONTENT_TYPE;
  // The door has processed the header blocks addressed to it (headerBlocks.ts), and node-soap
  // has nothing to do with any: given a Security header holding a Timestamp it would add a
  // Security header of its own, marked mustUnderstand, to the answer, which the WSDL does not
  // declare; and it reads headers by local name only, any namespace's Security alike.
  req.body = envelopeWithoutHeader;
}

/**
 * node-soap's Server on the router, from the WSDL, as soap.listen would make it. Its route
 * is added once it has parsed the WSDL (asynchronously), so this waits for that: the route
 * then sits right after the door's own steps, before anything added to the router later.
 * Resolves to the names of the operations the WSDL declares for the service's port.
 */
async function attachNodeSoap(router: Router, wsdlXml: string, services: IServices, admitted: (req: object) => boolean): Promise<Set<string>> {
  const options: IServerOptions = {
    path: '/',
    services,
    xml: wsdlXml,
    // Faults carry the contract's message only (node-soap would send a stack).
    suppressStack: true,
    // One write with a Content-Length, not chunks.
    enableChunkedEncoding: false,
    // The prefix the faultcodes (soap:Client, soap:Server) are written with.
    envelopeKey: 'soap',
  };
  const wsdl = new WSDL(wsdlXml, '', options);
  await new Promise<void>((resolve, reject) => {
    options.callback = (error: unknown) => (error ? reject(error) : resolve());
    const server = new SoapServer(router, '/', services, wsdl, options);
    // node-soap's authentication hook, called before it dispatches, with the Security header as
    // node-soap parsed it (prefixes dropped, namespaces ignored, text trimmed). The door has
    // authenticated the call by then, with its own strict reading and through passport, and
    // node-soap gets the envelope without its header; the hook is kept as the last guard that
    // node-soap dispatches only a request the door has authenticated and read (never reached
    // otherwise: a refusal here would be node-soap's own fault, not the contract's).
    server.authenticate = (_security: unknown, _done: unknown, req?: object) => req !== undefined && admitted(req);
  });
  const described = wsdl.describeServices() as Record<string, Record<string, Record<string, unknown>> | undefined>;
  const port = described[SERVICE_NAME]?.[PORT_NAME];
  // node-soap looks methods up by these names, and answers with an empty envelope when it finds none.
  if (!port) throw new Error(`The WSDL has no service ${SERVICE_NAME} with a port ${PORT_NAME}.`);
  return new Set(Object.keys(port));
}

function requireSoap11ContentType(req: Request, res: Response, next: NextFunction): void {
  callState(res).protocol = 'soap';
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const mediaType = type.split(';')[0]?.trim();
  if (mediaType === 'application/soap+xml') {
    return next(errors.unsupportedContentType('This endpoint serves SOAP 1.1 only: send the envelope as text/xml, not application/soap+xml (SOAP 1.2).'));
  }
  if (mediaType !== 'text/xml') {
    return next(errors.unsupportedContentType('A SOAP 1.1 request must be sent as text/xml.'));
  }
  const charset = /;\s*charset="?([^";\s]+)"?/.exec(type)?.[1];
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return next(errors.unsupportedContentType('A SOAP request must be encoded as UTF-8.'));
  }
  next();
}

/** A fault written by the door itself, for what is refused before node-soap. */
export function sendSoapError(error: unknown, res: Response, logger: Logger): void {
  const fault = soapFault(soapApiError(error, res, logger));
  res.status(fault.status).type(SOAP_CONTENT_TYPE).send(fault.body);
}
