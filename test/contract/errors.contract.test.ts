// Contract: the error shape for requests the service cannot even start on — an unknown operation,
// a malformed JSON body, a missing required parameter, a constraint violation — checked as the
// SDK's error.name and $metadata.httpStatusCode.
//
// AWS (awsJson1_1): UnknownOperationException / SerializationException / ValidationException,
// all HTTP 400. moto often answers these with HTTP 500 and an HTML page, which the SDK surfaces
// as a SyntaxError (deviation 28).

import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type CreateSecretCommandInput,
  type DescribeSecretCommandInput,
  type GetSecretValueCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { expectError, forEachTarget, itDeviates, uniqueName } from './targets';

interface RawRequest {
  headers: Record<string, string>;
  body?: unknown;
}

/** A ListSecrets command whose HTTP request is edited just before it is sent. */
function tamperedListSecrets(edit: (request: RawRequest) => void): ListSecretsCommand {
  const command = new ListSecretsCommand({});
  command.middlewareStack.add(
    (next) => async (args) => {
      edit(args.request as RawRequest);
      return next(args);
    },
    { step: 'build', priority: 'low', name: 'contractTamperRequest' },
  );
  return command;
}

forEachTarget((t) => {
  describe('error shape', () => {
    it('a well-formed request to a known operation succeeds (control for the tampering below)', async () => {
      const res = await t.client.send(tamperedListSecrets(() => undefined));
      expect(Array.isArray(res.SecretList)).toBe(true);
    });

    itDeviates(t, '28 (HTTP 500 with an HTML page)', 'an unknown operation: UnknownOperationException, HTTP 400', async () => {
      const command = tamperedListSecrets((request) => {
        request.headers['x-amz-target'] = 'secretsmanager.NoSuchOperation';
      });
      await expectError(t.client.send(command), {
        name: t.isMoto ? 'SyntaxError' : 'UnknownOperationException',
        status: t.isMoto ? 500 : 400,
      });
    });

    itDeviates(t, '29 (a malformed body is read as {})', 'a malformed JSON body: SerializationException, HTTP 400', async () => {
      const body = '{"MaxResults": 5,';
      const command = tamperedListSecrets((request) => {
        request.body = body;
        request.headers['content-length'] = String(Buffer.byteLength(body));
      });
      if (t.isMoto) {
        const res = await t.client.send(command);
        expect(Array.isArray(res.SecretList)).toBe(true);
      } else {
        await expectError(t.client.send(command), { name: 'SerializationException', status: 400 });
      }
    });

    itDeviates(t, '28 (HTTP 500 with an HTML page)', 'a missing required parameter: ValidationException, HTTP 400', async () => {
      // The SDK does not check required members client-side, so these reach the server as sent.
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['secretId', () => t.client.send(new GetSecretValueCommand({} as GetSecretValueCommandInput))],
        ['secretId', () => t.client.send(new DescribeSecretCommand({} as DescribeSecretCommandInput))],
        ['name', () => t.client.send(new CreateSecretCommand({ SecretString: 'x' } as CreateSecretCommandInput))],
      ];
      for (const [member, call] of calls) {
        const err = await expectError(call(), {
          name: t.isMoto ? 'SyntaxError' : 'ValidationException',
          status: t.isMoto ? 500 : 400,
        });
        if (!t.isMoto) expect(err.message).toContain(member);
      }
    });

    itDeviates(t, '18c (InvalidParameterException for the token length)', 'a ClientRequestToken shorter than 32 characters: ValidationException, HTTP 400', async () => {
      const name = uniqueName('errors-short-token');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      await expectError(
        t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'y', ClientRequestToken: 'too-short-token' })),
        { name: t.isMoto ? 'InvalidParameterException' : 'ValidationException', status: 400 },
      );
    });
  });
});
