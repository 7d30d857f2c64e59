import { optionalBoolean, optionalInteger, optionalString, type Body } from '../input';
import { matchesFilters, validateFilters } from '../list-filters';
import { decode, encode } from '../pagination';
import { validation } from '../errors';
import type { StoredSecret } from '../model';
import { listEntryView } from '../views';
import type { OperationContext } from './context';

export function listSecrets(body: Body, { store }: OperationContext): unknown {
  const maxResults = optionalInteger(body, 'MaxResults', 1, 100);
  const nextToken = optionalString(body, 'NextToken', { min: 1, max: 4096 });
  const includePlannedDeletion = optionalBoolean(body, 'IncludePlannedDeletion') ?? false;
  const sortOrder = optionalString(body, 'SortOrder');
  if (sortOrder !== undefined && sortOrder !== 'asc' && sortOrder !== 'desc') {
    throw validation(`Value '${sortOrder}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]`);
  }
  const filters = validateFilters(body['Filters']);

  const secrets = store.all();
  const scope = `list:${JSON.stringify([filters, sortOrder, includePlannedDeletion])}`;
  // Ordered by CreatedDate; newest first unless asked otherwise.
  const at = (i: number): StoredSecret => secrets[sortOrder === 'asc' ? i : secrets.length - 1 - i]!;
  const matches = (i: number): boolean => {
    const secret = at(i);
    return (includePlannedDeletion || !secret.deletedDate) && matchesFilters(secret, filters);
  };
  // The token is a position in the whole listing, so each page costs its own size, not the store's.
  const items = [];
  let position = nextToken === undefined ? 0 : decode(nextToken, scope);
  for (; position < secrets.length && items.length < (maxResults ?? 100); position++) {
    if (matches(position)) items.push(listEntryView(at(position)));
  }
  while (position < secrets.length && !matches(position)) position++; // no empty last page
  return position < secrets.length ? { SecretList: items, NextToken: encode(position, scope) } : { SecretList: items };
}
