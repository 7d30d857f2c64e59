// Contract: ListSecrets — filters, negation, pagination, IncludePlannedDeletion, SortOrder.
//
// moto is shared by every test file, so each check either filters on this run's unique name
// prefix or keeps only this run's secrets from the result before asserting.

import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  ListSecretsCommand,
  type Filter,
  type FilterNameStringType,
  type SecretListEntry,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, forEachTarget, itDeviates, listAllSecrets, sleep } from './targets';

interface Fixture {
  prefix: string;
  names: { alpha: string; beta: string; gamma: string };
  /** VersionId of alpha's only version. */
  alphaVersion: string;
}

forEachTarget((t) => {
  describe('ListSecrets', () => {
    let fx: Fixture;

    beforeAll(async () => {
      const prefix = `contract/list-${randomUUID().slice(0, 8)}/`;
      const names = { alpha: `${prefix}alpha`, beta: `${prefix}beta`, gamma: `${prefix}gamma` };
      const alpha = await t.client.send(
        new CreateSecretCommand({
          Name: names.alpha,
          SecretString: 'a',
          Description: 'Alpha primary database credentials',
          Tags: [
            { Key: 'env', Value: 'prod' },
            { Key: 'team', Value: 'payments' },
          ],
        }),
      );
      // Distinct CreatedDates for SortOrder.
      await sleep(25);
      await t.client.send(
        new CreateSecretCommand({
          Name: names.beta,
          SecretString: 'b',
          Description: 'beta replica login',
          Tags: [
            { Key: 'env', Value: 'staging' },
            { Key: 'rotate', Value: 'yes' },
          ],
        }),
      );
      await sleep(25);
      await t.client.send(
        new CreateSecretCommand({ Name: names.gamma, SecretString: 'c', Tags: [{ Key: 'owner', Value: 'ops' }] }),
      );
      fx = { prefix, names, alphaVersion: alpha.VersionId ?? '' };
    });

    /** Names of this run's secrets matching `filters` (always ANDed with the run's name prefix). */
    async function namesMatching(...filters: Filter[]): Promise<string[]> {
      const { entries } = await listAllSecrets(t.client, { filters: [{ Key: 'name', Values: [fx.prefix] }, ...filters] });
      return entries.map((e) => e.Name ?? '').sort();
    }

    /** Names of this run's secrets in a listing filtered only by `filters` (no prefix filter). */
    async function ownNamesMatching(...filters: Filter[]): Promise<string[]> {
      const { entries } = await listAllSecrets(t.client, { filters, maxResults: 100 });
      return entries
        .map((e) => e.Name ?? '')
        .filter((n) => n.startsWith(fx.prefix))
        .sort();
    }

    it('filter name: prefix match, case-sensitive', async () => {
      const { alpha, beta, gamma } = fx.names;
      expect(await namesMatching()).toEqual([alpha, beta, gamma]);
      expect(await namesMatching({ Key: 'name', Values: [`${fx.prefix}al`] })).toEqual([alpha]);
      expect(await namesMatching({ Key: 'name', Values: [`${fx.prefix}ALPHA`] })).toEqual([]);
      expect(await namesMatching({ Key: 'name', Values: ['lpha'] })).toEqual([]);
    });

    it('filter description: prefix match, case-insensitive', async () => {
      const { alpha, beta } = fx.names;
      expect(await namesMatching({ Key: 'description', Values: ['alpha primary'] })).toEqual([alpha]);
      expect(await namesMatching({ Key: 'description', Values: ['ALPHA'] })).toEqual([alpha]);
      expect(await namesMatching({ Key: 'description', Values: ['Beta'] })).toEqual([beta]);
      expect(await namesMatching({ Key: 'description', Values: ['zzz'] })).toEqual([]);
    });

    it('filter tag-key: prefix match, case-sensitive', async () => {
      const { alpha, beta, gamma } = fx.names;
      expect(await namesMatching({ Key: 'tag-key', Values: ['env'] })).toEqual([alpha, beta]);
      expect(await namesMatching({ Key: 'tag-key', Values: ['rot'] })).toEqual([beta]);
      expect(await namesMatching({ Key: 'tag-key', Values: ['own'] })).toEqual([gamma]);
      expect(await namesMatching({ Key: 'tag-key', Values: ['Env'] })).toEqual([]);
    });

    it('filter tag-value: prefix match, case-sensitive', async () => {
      const { alpha, beta } = fx.names;
      expect(await namesMatching({ Key: 'tag-value', Values: ['prod'] })).toEqual([alpha]);
      expect(await namesMatching({ Key: 'tag-value', Values: ['stag'] })).toEqual([beta]);
      expect(await namesMatching({ Key: 'tag-value', Values: ['Prod'] })).toEqual([]);
    });

    it('several Values in one filter match any of them', async () => {
      const { alpha, beta } = fx.names;
      expect(await namesMatching({ Key: 'tag-value', Values: ['prod', 'staging'] })).toEqual([alpha, beta]);
    });

    it('filter all: words searched in every attribute, case-insensitive', async () => {
      const { alpha, beta, gamma } = fx.names;
      expect(await namesMatching({ Key: 'all', Values: ['PAYMENTS'] })).toEqual([alpha]); // a tag value
      expect(await namesMatching({ Key: 'all', Values: ['replica'] })).toEqual([beta]); // a description word
      expect(await namesMatching({ Key: 'all', Values: ['owner'] })).toEqual([gamma]); // a tag key
      expect(await namesMatching({ Key: 'all', Values: ['nothing-like-this'] })).toEqual([]);
    });

    it('filters primary-region and owning-service are accepted; secrets created here match neither rds nor eu-west-3', async () => {
      expect(await namesMatching({ Key: 'primary-region', Values: ['eu-west-3'] })).toEqual([]);
      expect(await namesMatching({ Key: 'owning-service', Values: ['rds'] })).toEqual([]);
    });

    it('negation with "!" on name excludes the matching secrets', async () => {
      const { beta } = fx.names;
      // Only secrets with an env tag, except alpha (other files' secrets are dropped before asserting).
      expect(
        await ownNamesMatching({ Key: 'name', Values: [`!${fx.names.alpha}`] }, { Key: 'tag-key', Values: ['env'] }),
      ).toEqual([beta]);
    });

    itDeviates(t, '20 (negated tag filter matches if ANY tag differs; AWS unverified)', 'negation with "!" on tag-key excludes secrets having such a tag key', async () => {
      const { alpha, beta, gamma } = fx.names;
      const got = await namesMatching({ Key: 'tag-key', Values: ['!rotate'] });
      expect(got).toEqual(t.isMoto ? [alpha, beta, gamma] : [alpha, gamma]);
    });

    it('an unknown filter key: ValidationException', async () => {
      await expectError(
        t.client.send(new ListSecretsCommand({ Filters: [{ Key: 'bogus' as FilterNameStringType, Values: ['x'] }] })),
        { name: 'ValidationException', status: 400 },
      );
    });

    it('paginates with MaxResults and NextToken until NextToken is absent', async () => {
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await t.client.send(
          new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [fx.prefix] }], MaxResults: 2, NextToken: nextToken }),
        );
        pages += 1;
        expect(page.SecretList?.length ?? 0).toBeLessThanOrEqual(2);
        seen.push(...(page.SecretList ?? []).map((e) => e.Name ?? ''));
        nextToken = page.NextToken;
      } while (nextToken !== undefined && pages < 50);
      expect(nextToken).toBeUndefined();
      expect(pages).toBeGreaterThanOrEqual(2);
      expect([...seen].sort()).toEqual(Object.values(fx.names).sort());
      // The same with one secret per page.
      const single = await listAllSecrets(t.client, { filters: [{ Key: 'name', Values: [fx.prefix] }], maxResults: 1 });
      expect(single.pages).toBeGreaterThanOrEqual(3);
      expect(single.entries.map((e) => e.Name).sort()).toEqual(Object.values(fx.names).sort());
    });

    it('an unfiltered listing paginates too and contains this run\'s secrets', async () => {
      const { entries } = await listAllSecrets(t.client, { maxResults: 100 });
      const names = entries.map((e) => e.Name ?? '');
      expect(new Set(names).size).toBe(names.length);
      for (const n of Object.values(fx.names)) expect(names).toContain(n);
    });

    it('list entries carry ARN, Name, Description, Tags, dates and SecretVersionsToStages', async () => {
      const { entries } = await listAllSecrets(t.client, { filters: [{ Key: 'name', Values: [fx.names.alpha] }] });
      expect(entries).toHaveLength(1);
      const e = entries[0] as SecretListEntry;
      expect(e.Name).toBe(fx.names.alpha);
      expect(e.ARN).toMatch(/^arn:aws:secretsmanager:/);
      expect(e.Description).toBe('Alpha primary database credentials');
      expect([...(e.Tags ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? ''))).toEqual([
        { Key: 'env', Value: 'prod' },
        { Key: 'team', Value: 'payments' },
      ]);
      expect(e.CreatedDate).toBeInstanceOf(Date);
      expect(e.LastChangedDate).toBeInstanceOf(Date);
      expect(e.SecretVersionsToStages).toEqual({ [fx.alphaVersion]: ['AWSCURRENT'] });
      expect(e.DeletedDate).toBeUndefined();
    });

    it('hides secrets scheduled for deletion unless IncludePlannedDeletion', async () => {
      const prefix = `contract/list-deleted-${randomUUID().slice(0, 8)}/`;
      const kept = `${prefix}kept`;
      const doomed = `${prefix}doomed`;
      await t.client.send(new CreateSecretCommand({ Name: kept, SecretString: 'k' }));
      await t.client.send(new CreateSecretCommand({ Name: doomed, SecretString: 'd' }));
      const del = await t.client.send(new DeleteSecretCommand({ SecretId: doomed, RecoveryWindowInDays: 7 }));
      const filters: Filter[] = [{ Key: 'name', Values: [prefix] }];
      const visible = await listAllSecrets(t.client, { filters });
      expect(visible.entries.map((e) => e.Name)).toEqual([kept]);
      const all = await listAllSecrets(t.client, { filters, includePlannedDeletion: true });
      expect(all.entries.map((e) => e.Name).sort()).toEqual([doomed, kept].sort());
      const entry = all.entries.find((e) => e.Name === doomed);
      expect(entry?.DeletedDate).toBeInstanceOf(Date);
      expect(Math.abs((entry?.DeletedDate?.getTime() ?? 0) - (del.DeletionDate?.getTime() ?? Number.NaN))).toBeLessThanOrEqual(2_000);
    });

    itDeviates(t, '27 (SortOrder ignored)', 'SortOrder asc/desc orders by CreatedDate', async () => {
      const order = async (sortOrder: 'asc' | 'desc'): Promise<string[]> => {
        const { entries } = await listAllSecrets(t.client, { filters: [{ Key: 'name', Values: [fx.prefix] }], sortOrder });
        return entries.map((e) => e.Name ?? '');
      };
      const { alpha, beta, gamma } = fx.names;
      expect(await order('asc')).toEqual([alpha, beta, gamma]);
      expect(await order('desc')).toEqual(t.isMoto ? [alpha, beta, gamma] : [gamma, beta, alpha]);
    });

    itDeviates(t, '17 (HTTP 500 HTML page)', 'a garbage NextToken: InvalidNextTokenException', async () => {
      await expectError(t.client.send(new ListSecretsCommand({ NextToken: 'garbage-token' })), {
        name: t.isMoto ? 'SyntaxError' : 'InvalidNextTokenException',
        status: t.isMoto ? 500 : 400,
      });
    });
  });
});
