import { optionalBoolean, optionalInteger, optionalString, type Body } from '../input';
import { matchesFilters, validateFilters } from '../list-filters';
import { pageOf } from '../pagination';
import { validation } from '../errors';
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

  const matching = store
    .all()
    .filter((s) => includePlannedDeletion || !s.deletedDate)
    .filter((s) => matchesFilters(s, filters));
  // Ordered by CreatedDate; newest first unless asked otherwise.
  if (sortOrder !== 'asc') matching.reverse();
  const page = pageOf(matching, maxResults ?? 100, nextToken, `list:${JSON.stringify([filters, sortOrder, includePlannedDeletion])}`);
  return page.nextToken === undefined
    ? { SecretList: page.items.map(listEntryView) }
    : { SecretList: page.items.map(listEntryView), NextToken: page.nextToken };
}
