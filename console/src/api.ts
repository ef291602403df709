// The REST API as the page calls it: HTTP Basic with the credentials typed in at sign-in,
// JSON in and out. A failure becomes an ApiProblem that says what happened in words.

export interface Credentials {
  username: string;
  password: string;
}

/** An API user as GET /v2/api-users shows it (the fields the page uses). */
export interface ApiUser {
  id: string;
  username: string;
  description: string;
  enabled: boolean;
  locked: boolean;
  lockReason: 'FailedLogins' | 'AccountDisabled' | null;
  canManageAccount: boolean;
  isOwner: boolean;
  created: string;
  lastUsed: string | null;
  /** Addresses and CIDR ranges it may call from; empty: any address. */
  ipAllowlist: string[];
  /** Until when the password replaced by the last reset still works, if it does. */
  previousPasswordExpires: string | null;
}

/** One entry of GET /v2/audit-events. `type` is open: the gateway may add kinds of events. */
export interface AuditEvent {
  id: string;
  time: string;
  type: string;
  /** Null for the command line and the gateway itself (a lock). */
  actorId: string | null;
  actorUsername: string | null;
  targetId: string | null;
  targetUsername: string | null;
  clientIp: string | null;
  /** Free text: what was changed, the refused address, … */
  details: string | null;
}

export interface AccountInfo {
  id: string;
  properties: Array<{ name: string; type: string; value: string }>;
}

export class ApiProblem extends Error {
  constructor(
    /** HTTP status; 0 when the gateway could not be reached at all. */
    readonly status: number,
    /** The contract's ERROR_* code, when the gateway sent one. */
    readonly code: string | null,
    /** The gateway's own sentence, without the code. */
    readonly sentence: string,
    /** Seconds to wait before trying again (Retry-After), when the gateway said. */
    readonly retryAfterSeconds: number | null,
  ) {
    super(sentence);
  }
}

/** HTTP Basic per RFC 7617: the credentials as UTF-8, so any character survives. */
function basicAuthorization({ username, password }: Credentials): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

export class ApiClient {
  constructor(private readonly credentials: Credentials) {}

  get username(): string {
    return this.credentials.username;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`/v2${path}`, {
        method,
        headers: {
          Authorization: basicAuthorization(this.credentials),
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        // Never the browser's own stored credentials or cookies: only what was typed in. This
        // also keeps a 401's `WWW-Authenticate: Basic` from opening the browser's own login
        // prompt (the Fetch standard prompts only when credentials are included).
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new ApiProblem(0, null, 'The gateway could not be reached. Check the connection and try again.', null);
    }
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (response.ok) return parsed as T;
    const message = typeof parsed === 'object' && parsed !== null && 'message' in parsed ? String(parsed.message) : '';
    const code = /\b(ERROR_[A-Z_]+)$/.exec(message)?.[1] ?? null;
    const sentence = message.replace(/\s*ERROR_[A-Z_]+$/, '').trim();
    const retryAfter = Number(response.headers.get('Retry-After'));
    throw new ApiProblem(response.status, code, sentence, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
