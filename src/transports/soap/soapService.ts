// node-soap's service object, built from the operation table: one method per operation, each
// running the one pipeline (runOperation). node-soap dispatches to it and writes the envelope
// and the operation's response wrapper; the method hands it the `<Name>Result` element already
// written (resultWriter) and its failures as faults node-soap writes with the contract's status.
//
// The input is the one the door read from the envelope before node-soap (inputFromXml, as XML
// Schema reads values), not the object node-soap parsed: node-soap trims text, reads
// xs:boolean "yes" as false and xs:int "12abc" as 12, and drops elements it does not know.
import type { Request, Response } from 'express';
import type { IServices, ISoapServiceMethod } from 'soap';
import type { Operation } from '../../operations/define.js';
import type { JsonSchema } from '../../operations/jsonSchema.js';
import { runOperation } from '../../operations/pipeline.js';
import { authenticatedCall } from '../callState.js';
import type { DoorDependencies } from '../doorDependencies.js';
import { OperationFault } from './faults.js';
import { soapApiError } from './soapError.js';
import { resultWriter } from './xmlMapping.js';

/** The WSDL's wsdl:service and wsdl:port, under which node-soap looks the methods up. */
export const SERVICE_NAME = 'ApiService';
export const PORT_NAME = 'ApiServiceSoap';

/** An operation with the JSON Schemas its input is read and its result written by. */
export interface SoapOperation {
  operation: Operation;
  input: JsonSchema;
  result: JsonSchema | null;
}

/** What the door read of a request's envelope before handing the request to node-soap. */
export interface EnvelopeRead {
  operation: SoapOperation;
  /** The operation's input, read from its wrapper element (inputFromXml), not yet checked. */
  input: unknown;
}

export function soapService(
  operations: readonly SoapOperation[],
  dependencies: DoorDependencies,
  envelopeOf: (req: Request) => EnvelopeRead | undefined,
): IServices {
  const methods: Record<string, ISoapServiceMethod> = {};
  for (const soapOperation of operations) {
    const { operation, result } = soapOperation;
    const writeResult = result ? resultWriter(result, `${operation.name}Result`) : () => '';
    // node-soap's arguments: its own reading of the input, its callback (unused: the method
    // returns a promise), the SOAP headers, then Express's request and response.
    methods[operation.name] = async (_parsedByNodeSoap: unknown, _callback: unknown, _headers: unknown, req: Request, res: Response) => {
      try {
        const read = envelopeOf(req);
        if (read?.operation !== soapOperation) {
          throw new Error(`node-soap dispatched to ${operation.name}, but the body names ${read?.operation.operation.name ?? 'nothing read'}`);
        }
        const { caller, quota } = authenticatedCall(res);
        const value = await runOperation(operation, dependencies.callContext(req, caller, quota), read.input);
        // node-soap writes `$xml` as it is, inside the response wrapper.
        return { $xml: writeResult(value) };
      } catch (error) {
        throw new OperationFault(soapApiError(error, res, dependencies.logger));
      }
    };
  }
  return { [SERVICE_NAME]: { [PORT_NAME]: methods } };
}
