// The hand-written WSDL (wsdl/api.wsdl), served with its soap:address set to the URL the
// server is reached at.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { escapeXml } from './faults.js';

export const SOAP_PATH = '/v2/api.svc';
const WSDL_FILE = fileURLToPath(new URL('../../../wsdl/api.wsdl', import.meta.url));
const ADDRESS = /(<soap:address\s+location=")[^"]*(")/;

export class WsdlDocument {
  readonly xml: string;
  private readonly byBaseUrl = new Map<string, string>();

  constructor(xml = readFileSync(WSDL_FILE, 'utf8')) {
    if (!ADDRESS.test(xml)) throw new Error('The WSDL has no soap:address to fill in.');
    this.xml = xml;
  }

  /** The WSDL as served at this base URL (a handful of base URLs at most: remembered). */
  at(baseUrl: string): string {
    let served = this.byBaseUrl.get(baseUrl);
    if (served === undefined) {
      served = this.xml.replace(ADDRESS, (_match, open: string, close: string) => `${open}${escapeXml(baseUrl + SOAP_PATH)}${close}`);
      if (this.byBaseUrl.size < 64) this.byBaseUrl.set(baseUrl, served);
    }
    return served;
  }
}
