// The SOAP door. Before node-soap sees a request: content type, the HTTP Basic gate, a
// size-limited read of the body, and the envelope reader, which refuses hostile XML and
// finds the operation by the body's element (never by SOAPAction: WS-I R1127). node-soap then
// dispatches to the service built from the operation table and writes the response envelope.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import * as soap from 'soap';
import type { Logger } from 'pino';
import { errors, ParameterError, type ApiError } from '../../errors.js';
import type { Operation } from '../../operations/define.js';
import { toJsonSchema, type JsonSchema } from '../../operations/jsonSchema.js';
import { runOperation } from '../../operations/pipeline.js';
import { authenticatedCall, callState } from '../callState.js';
import type { DoorDependencies } from '../doorDependencies.js';
import { toApiError } from '../errorMapping.js';
import { publicBaseUrl } from '../publicUrl.js';
import { EnvelopeError, readSoapRequest, SOAP11_ENVELOPE_NS } from './envelopeReader.js';
import { SOAP_CONTENT_TYPE, soapFault } from './faults.js';
import { SOAP_PATH, WsdlDocument } from './wsdlDocument.js';
import { inputFromXml, resultXml, soapFieldName, TARGET_NAMESPACE } from './xmlMapping.js';

interface SoapOperation {
  operation: Operation;
  input: JsonSchema;
  result: JsonSchema | null;
  /** The smallest envelope that names the operation: what node-soap is given to dispatch. */
  dispatchEnvelope: Buffer;
}

/** What the door hands node-soap's service method through res.locals. */
interface SoapCall {
  soapOperation: SoapOperation;
  input: unknown;
}

type ServiceMethod = (args: unknown, callback: (result: unknown) => void, headers: unknown, req: Request, res: Response) => void;

export interface SoapDoor {
  router: Router;
  /** Resolves once node-soap has read the WSDL and mounted its route. */
  ready: Promise<void>;
}

export function soapDoor(operations: readonly Operation[], dependencies: DoorDependencies): SoapDoor {
  const { config, logger } = dependencies;
  const wsdl = new WsdlDocument();
  const byElement = new Map<string, SoapOperation>(
    operations.map((operation) => [
      operation.name,
      {
        operation,
        input: toJsonSchema(operation.input, 'input'),
        result: operation.result && toJsonSchema(operation.result, 'output'),
        dispatchEnvelope: Buffer.from(
          `<soap:Envelope xmlns:soap="${SOAP11_ENVELOPE_NS}"><soap:Body><${operation.name} xmlns="${TARGET_NAMESPACE}"/></soap:Body></soap:Envelope>`,
        ),
      },
    ]),
  );
  const router = express.Router({ caseSensitive: true, strict: false });
  const readBody = express.raw({ type: () => true, limit: config.SOAP_BODY_LIMIT_BYTES });

  router.get(SOAP_PATH, (req, res, next) => {
    const wantsWsdl = Object.keys(req.query).some((key) => /^(single)?wsdl$/i.test(key));
    if (!wantsWsdl) return next();
    res.type('text/xml; charset=utf-8').send(wsdl.at(publicBaseUrl(req, config.PUBLIC_URL)));
  });

  router.post(
    SOAP_PATH,
    requireSoap11ContentType,
    dependencies.authenticate,
    readBody,
    (req, res, next) => {
      const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const { payload } = readSoapRequest(body);
      const soapOperation = payload.namespace === TARGET_NAMESPACE ? byElement.get(payload.name) : undefined;
      if (!soapOperation) {
        throw new EnvelopeError(500, `The SOAP body names no operation of this service (${payload.name}); see the WSDL at ${SOAP_PATH}?wsdl.`);
      }
      callState(res).operation = soapOperation.operation.name;
      const call: SoapCall = { soapOperation, input: inputFromXml(payload, soapOperation.input) };
      res.locals.soapCall = call;
      // node-soap would pick the method by SOAPAction when one is sent, even against the body.
      delete req.headers.soapaction;
      // The input is read; node-soap needs only to dispatch, so it is spared a second parse.
      req.body = soapOperation.dispatchEnvelope;
      next();
    },
  );

  router.all(SOAP_PATH, (req, res, next) => {
    if (req.method === 'POST') return next();
    res.set('Allow', 'GET, POST');
    next(new EnvelopeError(405, `Use POST to call the SOAP service, or GET ${SOAP_PATH}?wsdl for its WSDL.`));
  });

  const serviceMethod: ServiceMethod = (_args, callback, _headers, req, res) => {
    const { soapOperation, input } = res.locals.soapCall as SoapCall;
    const { operation, result: resultSchema } = soapOperation;
    const { caller, quota } = authenticatedCall(res);
    runOperation(operation, dependencies.callContext(req, caller, quota), input).then(
      (result) => {
        res.setHeader('Content-Type', SOAP_CONTENT_TYPE);
        // node-soap writes the envelope and the response wrapper around this, verbatim ($xml).
        callback(resultSchema ? { $xml: resultXml(result, resultSchema, `${operation.name}Result`) } : {});
      },
      // Faults are written here, not by node-soap, so that every fault has the one shape.
      (error: unknown) => sendSoapError(error, res, logger),
    );
  };
  const methods = Object.fromEntries(operations.map((operation) => [operation.name, serviceMethod]));

  const ready = new Promise<void>((resolve, reject) => {
    soap.listen(router as unknown as Parameters<typeof soap.listen>[0], {
      path: SOAP_PATH,
      services: { ApiService: { ApiServiceSoap: methods } },
      xml: wsdl.xml,
      suppressStack: true,
      // One write with a Content-Length, rather than a chunk and then the terminating chunk.
      enableChunkedEncoding: false,
      callback: (error: unknown, server: soap.Server) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        // node-soap writes xsi:nil for null values without declaring the xsi prefix.
        const definitions = server as unknown as { wsdl: { xmlnsInEnvelope: string } };
        definitions.wsdl.xmlnsInEnvelope = `${definitions.wsdl.xmlnsInEnvelope.trim()} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`;
        resolve();
      },
    } as soap.IServerOptions);
  });

  router.use(SOAP_PATH, (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    sendSoapError(error, res, logger);
  });

  return { router, ready };
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
