import { ApiError } from './errors';

/**
 * Opaque page tokens: the offset plus the listing they belong to, so a token from one listing
 * (or garbage) is refused with AWS's InvalidNextTokenException instead of paging at random.
 */
export function pageOf<T>(items: T[], pageSize: number, nextToken: string | undefined, scope: string): { items: T[]; nextToken?: string } {
  const start = nextToken === undefined ? 0 : decode(nextToken, scope);
  const end = start + pageSize;
  const page = items.slice(start, end);
  return end < items.length ? { items: page, nextToken: encode(end, scope) } : { items: page };
}

export function encode(offset: number, scope: string): string {
  return Buffer.from(JSON.stringify({ o: offset, s: scope })).toString('base64url');
}

export function decode(token: string, scope: string): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof parsed === 'object' && parsed !== null &&
      'o' in parsed && 's' in parsed &&
      Number.isInteger(parsed.o) && (parsed.o as number) >= 0 && parsed.s === scope
    ) {
      return parsed.o as number;
    }
  } catch {
    // fall through to the AWS error
  }
  throw new ApiError('InvalidNextTokenException', 'The NextToken value is invalid.');
}
