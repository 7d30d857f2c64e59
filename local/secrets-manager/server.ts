import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from './errors';
import type { FaultInjector } from './faults';
import { isBody } from './input';
import { operations, type OperationContext } from './operations';
import type { ControlPlane } from './control';

const MAX_BODY_BYTES = 1_048_576;
const TARGET_PREFIX = 'secretsmanager.';

/** One API call as the sandbox saw it: tests and benchmarks count these. */
export interface CallRecord {
  operation: string;
  status: number;
  errorCode?: string;
  at: Date;
  /** performance.now() when the request arrived and when its answer was sent: which calls overlapped. */
  startMs: number;
  endMs: number;
}

export interface ServerParts {
  context: OperationContext;
  faults: FaultInjector;
  control: ControlPlane;
  calls: CallRecord[];
}

/** An HTTP server speaking Secrets Manager's AWS JSON 1.1 protocol, plus the sandbox's /_sandbox control routes. */
export function createSandboxServer(parts: ServerParts): Server {
  return createServer((req, res) => {
    handle(req, res, parts).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      sendError(res, new ApiError('InternalServiceError', `Sandbox failure: ${message}`, 500));
    });
  });
}

export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function handle(req: IncomingMessage, res: ServerResponse, parts: ServerParts): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const raw = await readBody(req);
  if (url.pathname.startsWith('/_sandbox/')) {
    const result = await parts.control.handle(req.method ?? 'GET', url.pathname.slice('/_sandbox/'.length), raw);
    sendJson(res, result.status, result.body, 'application/json');
    return;
  }

  const target = headerValue(req, 'x-amz-target');
  const operationName = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  const operation = operationName !== undefined && Object.hasOwn(operations, operationName) ? operations[operationName] : undefined;
  const startMs = performance.now();
  const record = (status: number, errorCode?: string): void => {
    parts.calls.push({ operation: operationName ?? target ?? '(none)', status, at: new Date(), startMs, endMs: performance.now(), ...(errorCode ? { errorCode } : {}) });
  };
  try {
    if (req.method !== 'POST') throw new ApiError('UnknownOperationException', `Secrets Manager takes POST requests, not ${req.method}.`);
    if (!operation || !operationName) throw new ApiError('UnknownOperationException', `Unknown operation ${target ?? '(no X-Amz-Target header)'}`);
    const body = parseBody(raw);
    const fault = parts.faults.decide(operationName);
    if (fault.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault.error) throw fault.error;
    const result = await operation(body, parts.context);
    record(200);
    sendJson(res, 200, result);
  } catch (err) {
    const apiError = err instanceof ApiError ? err : new ApiError('InternalServiceError', 'An error occurred on the server side.', 500);
    if (!(err instanceof ApiError)) console.error('[sandbox] unexpected failure in', operationName, err);
    record(apiError.status, apiError.code);
    sendError(res, apiError);
  }
}

function parseBody(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError('SerializationException', 'The request body is not valid JSON.');
  }
  if (!isBody(parsed)) throw new ApiError('SerializationException', 'The request body must be a JSON object.');
  return parsed;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new ApiError('ValidationException', 'Request body too large.');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/x-amz-json-1.1'): void {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) return;
  const text = JSON.stringify({ __type: error.code, message: error.message, Message: error.message });
  res.writeHead(error.status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': error.code,
  });
  res.end(text);
}
