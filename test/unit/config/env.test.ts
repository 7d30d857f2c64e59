import { describe, expect, it } from 'vitest';
import { envFlag, envInteger } from '../../../shared/config/env';
import { readComplianceConfig } from '../../../shared/compliance/config';
import { ConfigError, readRotationConfig } from '../../../shared/rotation/config';

const fail = (message: string) => new RangeError(message);

describe('one way to read the environment', () => {
  it.each([
    ['true', true], ['1', true], ['y', true], ['YES', true], [' on ', true],
    ['false', false], ['0', false], ['n', false], ['No', false], ['off', false],
  ])('reads %j as %s', (value, expected) => {
    expect(envFlag({ X: value }, 'X', !expected, fail)).toBe(expected);
  });

  it('uses the fallback when unset or empty, and refuses anything else, naming the variable', () => {
    expect(envFlag({}, 'X', true, fail)).toBe(true);
    expect(envFlag({ X: '' }, 'X', false, fail)).toBe(false);
    expect(() => envFlag({ X: 'maybe' }, 'X', false, fail)).toThrow(/X must be true or false.*"maybe"/);
    expect(() => envInteger({ N: '7.5' }, 'N', 1, 1, 10, fail)).toThrow(/N must be a whole number from 1 to 10/);
  });

  it('the rotation and compliance functions spell yes and no the same way, each with its own error class', () => {
    expect(readRotationConfig({ EXCLUDE_NUMBERS: 'on' }, { excludeCharacters: '' }).password.ExcludeNumbers).toBe(true);
    expect(readComplianceConfig({ COMPLIANCE_METRICS: 'no' }).outputs.metrics).toBe(false);
    expect(() => readRotationConfig({ EXCLUDE_NUMBERS: 'maybe' }, { excludeCharacters: '' })).toThrow(ConfigError);
    expect(() => readComplianceConfig({ COMPLIANCE_METRICS: 'maybe' })).toThrow(/COMPLIANCE_METRICS/);
  });
});
