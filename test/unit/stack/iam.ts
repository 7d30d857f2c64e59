/**
 * IAM policy reading for the stack tests. Definitions:
 * - a *read* action is one whose name (after `service:`) starts with Get, List or Describe
 *   (`secretsmanager:GetSecretValue`, `ec2:Describe*`);
 * - every other action is a *write* action, including `*` and `service:*`;
 * - a *wildcard write* is a write action containing `*` or `?` (`*`, `secretsmanager:*`,
 *   `secretsmanager:Put*`, `s3:*Object`): it may grant actions nobody reviewed.
 */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface FoundStatement {
  /** Where in the template: resource logical id and path. */
  where: string;
  statement: Statement;
}

const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export const actionsOf = (s: Statement): string[] => asList(s.Action);

export function isReadAction(action: string): boolean {
  const name = action.includes(':') ? action.slice(action.indexOf(':') + 1) : action;
  return /^(Get|List|Describe)/.test(name);
}

export function isWildcardWrite(action: string): boolean {
  return /[*?]/.test(action) && !isReadAction(action);
}

/**
 * Every statement of every policy document in the template (IAM role policies, managed
 * policies, topic and bucket policies, both branches of any Fn::If), found by walking it.
 */
export function policyStatements(resources: Record<string, unknown>): FoundStatement[] {
  const found: FoundStatement[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${where}[${i}]`));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if ('Statement' in record && (Array.isArray(record['Statement']) || typeof record['Statement'] === 'object')) {
      asList(record['Statement'] as Statement | Statement[]).forEach((statement, i) => found.push({ where: `${where}.Statement[${i}]`, statement }));
    }
    for (const [key, value] of Object.entries(record)) if (key !== 'Statement') walk(value, `${where}.${key}`);
  };
  for (const [id, resource] of Object.entries(resources)) walk(resource, id);
  return found;
}

/** Allow statements of identity policies (not resource policies, which carry a Principal). */
export const isIdentityAllow = (s: Statement): boolean => s.Effect === 'Allow' && s.Principal === undefined;

export const resourceIsStar = (s: Statement): boolean => asList(s.Resource as unknown).some((r) => r === '*');

export const conditionKeys = (s: Statement): string[] => Object.values(s.Condition ?? {}).flatMap((block) => Object.keys(block));

/**
 * The template as CloudFormation would deploy it with these parameters: conditions evaluated
 * (Fn::Equals / Fn::Not / Fn::And / Fn::Or over literal values, as `serverless package` leaves
 * them), each Fn::If replaced by its chosen branch, and AWS::NoValue removed. A condition that
 * cannot be evaluated is an error, not a guess.
 */
export function deployedView<T>(node: T, conditions: Record<string, unknown> = {}): T {
  const values = new Map<string, boolean>();
  const evaluate = (expr: unknown): unknown => {
    if (expr === null || typeof expr !== 'object' || Array.isArray(expr)) return expr;
    const [[fn, args]] = Object.entries(expr as Record<string, unknown>) as [[string, unknown]];
    const list = args as unknown[];
    switch (fn) {
      case 'Fn::Equals':
        return JSON.stringify(evaluate(list[0])) === JSON.stringify(evaluate(list[1]));
      case 'Fn::Not':
        return !truth(list[0]);
      case 'Fn::And':
        return list.every(truth);
      case 'Fn::Or':
        return list.some(truth);
      case 'Condition':
        return condition(args as string);
      default:
        throw new Error(`cannot evaluate ${fn} in a condition`);
    }
  };
  const truth = (expr: unknown): boolean => {
    const value = evaluate(expr);
    if (typeof value !== 'boolean') throw new Error(`condition ${JSON.stringify(expr)} is not a boolean`);
    return value;
  };
  const condition = (name: string): boolean => {
    if (!values.has(name)) {
      if (!(name in conditions)) throw new Error(`unknown condition ${name}`);
      values.set(name, truth(conditions[name]));
    }
    return values.get(name)!;
  };
  const NO_VALUE = Symbol('NoValue');
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    if (record['Ref'] === 'AWS::NoValue') return NO_VALUE;
    if ('Fn::If' in record && Object.keys(record).length === 1) {
      const [name, yes, no] = record['Fn::If'] as [string, unknown, unknown];
      return walk(condition(name) ? yes : no);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(record)) {
      const walked = walk(v);
      if (walked !== NO_VALUE) out[key] = walked;
    }
    return out;
  };
  return walk(node) as T;
}
