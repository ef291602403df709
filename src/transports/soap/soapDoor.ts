// The SOAP door: content type, the HTTP Basic gate, a size-limited read of the body, then the
// envelope reader, which refuses hostile XML and finds the operation by the body's element
// (never by SOAPAction: WS-I R1127) and its input by the schema. The operation's result is
// written back as the WSDL declares (responseEnvelope, resultXml), every failure as one fault.
//
// node-soap no longer answers here: once the door read the request itself (to stop hostile
// XML and read values exactly) and wrote the result XML itself (node-soap's serializer was
// slow and unsafe), all node-soap still did was parse a second, minimal envelope to dispatch
// and write the two wrapper elements: a quarter of a SOAP call's CPU (issue #3's benchmark).
// The WSDL is checked against the operation table by tests, and node-soap's client, built
// from the served WSDL, calls every operation in the tests.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { errors, ParameterError, type ApiError } from '../../errors.js';
import type { Operation } from '../../operations/define.js';
import { toJsonSchema, type JsonSchema } from '../../operations/jsonSchema.js';
import { runOperation } from '../../operations/pipeline.js';
import { authenticatedCall, callState } from '../callState.js';
import type { DoorDependencies } from '../doorDependencies.js';
import { toApiError } from '../errorMapping.js';
import { publicBaseUrl } from '../publicUrl.js';
import { EnvelopeError, readSoapRequest } from './envelopeReader.js';
import { SOAP_CONTENT_TYPE, soapFault } from './faults.js';
import { responseEnvelope } from './responseEnvelope.js';
import { SOAP_PATH, WsdlDocument } from './wsdlDocument.js';
import { inputFromXml, resultXml, soapFieldName, TARGET_NAMESPACE } from './xmlMapping.js';

interface SoapOperation {
  operation: Operation;
  input: JsonSchema;
  result: JsonSchema | null;
}

export function soapDoor(operations: readonly Operation[], dependencies: DoorDependencies): Router {
  const { config, logger } = dependencies;
  const wsdl = new WsdlDocument();
  const byElement = new Map<string, SoapOperation>(
    operations.map((operation) => [
      operation.name,
      {
        operation,
        input: toJsonSchema(operation.input, 'input'),
        result: operation.result && toJsonSchema(operation.result, 'output'),
      },
    ]),
  );
  const router = express.Router({ caseSensitive: true, strict: false });
  const readBody = express.raw({ type: () => true, limit: config.SOAP_BODY_LIMIT_BYTES });

  // Mounted at SOAP_PATH (see app.ts): '/' here is the endpoint itself.
  router.get('/', (req, res, next) => {
    const wantsWsdl = Object.keys(req.query).some((key) => /^(single)?wsdl$/i.test(key));
    if (!wantsWsdl) return next();
    res.type('text/xml; charset=utf-8').send(wsdl.at(publicBaseUrl(req, config.PUBLIC_URL)));
  });

  router.post('/', requireSoap11ContentType, ...dependencies.authenticate, readBody, (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const { payload } = readSoapRequest(body);
    const soapOperation = payload.namespace === TARGET_NAMESPACE ? byElement.get(payload.name) : undefined;
    if (!soapOperation) {
      throw new EnvelopeError(500, `The SOAP body names no operation of this service (${payload.name}); see the WSDL at ${SOAP_PATH}?wsdl.`);
    }
    const { operation, result: resultSchema } = soapOperation;
    callState(res).operation = operation.name;
    const input = inputFromXml(payload, soapOperation.input);
    const { caller, quota } = authenticatedCall(res);
    runOperation(operation, dependencies.callContext(req, caller, quota), input)
      .then((result) => {
        const xml = responseEnvelope(operation.name, resultSchema ? resultXml(result, resultSchema, `${operation.name}Result`) : '');
        res.statusCode = 200;
        res.setHeader('Content-Type', SOAP_CONTENT_TYPE);
        res.setHeader('Content-Length', Buffer.byteLength(xml));
        res.end(xml);
      })
      .catch((error: unknown) => sendSoapError(error, res, logger));
  });

  router.all('/', (_req, res, next) => {
    res.set('Allow', 'GET, POST');
    next(new EnvelopeError(405, `Use POST to call the SOAP service, or GET ${SOAP_PATH}?wsdl for its WSDL.`));
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    sendSoapError(error, res, logger);
  });

  return router;
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

export function sendSoapError(error: unknown, res: Response, logger: Logger): void {
  let apiError: ApiError = toApiError(error, callState(res).requestId, logger);
  if (apiError instanceof ParameterError) apiError = apiError.renamed(soapFieldName);
  const fault = soapFault(apiError);
  res.status(fault.status).set(apiError.headers).type(SOAP_CONTENT_TYPE).send(fault.body);
}
