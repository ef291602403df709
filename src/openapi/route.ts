// GET /v2/openapi.json: public, like the WSDL (it describes the API and holds no data), so it
// is routed before the REST door's authentication. Its `servers` entry is the public base
// URL worked out as for the WSDL's soap:address; each base URL's JSON is written once.
import type { RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.js';
import type { Operation } from '../operations/define.js';
import { publicBaseUrl } from '../transports/publicUrl.js';
import { openApiDocument } from './document.js';

export const OPENAPI_PATH = '/v2/openapi.json';

/** The handler of GET OPENAPI_PATH. */
export function openApiDocumentHandler(operations: readonly Operation[], config: Config): RequestHandler {
  const document = openApiDocument(operations, { restBodyLimitBytes: config.REST_BODY_LIMIT_BYTES });
  // A few base URLs at most in practice (PUBLIC_URL, or the Host names the server is reached
  // by); bounded, since a Host header is the caller's to choose.
  const served = new LRUCache<string, string>({ max: 64 });
  return (req, res) => {
    const baseUrl = publicBaseUrl(req, config.PUBLIC_URL);
    let json = served.get(baseUrl);
    if (json === undefined) {
      json = JSON.stringify({ ...document, servers: [{ url: baseUrl }] });
      served.set(baseUrl, json);
    }
    res.type('application/json').send(json);
  };
}
