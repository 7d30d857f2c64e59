/**
 * The end of `npm start`: every secret of the sandbox judged against the rotation policy (the
 * defaults, or COMPLIANCE_POLICY), as a table, through the same scan the Lambda function runs.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { compilePolicy, scanSecrets, type SecretEvaluation } from '../shared/compliance';
import type { Sandbox } from './secrets-manager';

const clip = (text: string, width: number): string => (text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`);

export async function printComplianceTable(sandbox: Sandbox): Promise<void> {
  const env = sandbox.env();
  const secretsManager = new SecretsManagerClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? 'sandbox', secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? 'sandbox' },
    retryMode: 'adaptive',
  });
  const policy = compilePolicy([{ source: 'COMPLIANCE_POLICY', document: process.env['COMPLIANCE_POLICY'] || undefined }]);
  const rows: SecretEvaluation[] = [];
  const summary = await scanSecrets(secretsManager, policy, { now: sandbox.clock.now(), onPage: (page) => void rows.push(...page) });
  rows.sort((a, b) => a.name.localeCompare(b.name));

  console.log(`\nCompliance (${summary.evaluatedAt}, ${summary.listSecretsCalls} ListSecrets call${summary.listSecretsCalls === 1 ? '' : 's'})`);
  const nameWidth = Math.min(40, Math.max(6, ...rows.map((r) => r.name.length)));
  console.log(`${'secret'.padEnd(nameWidth)}  ${'class'.padEnd(16)}  ${'status'.padEnd(9)}  result`);
  for (const row of rows) {
    const status = row.status === 'evaluated' ? (row.findings.length === 0 ? 'ok' : 'FAIL') : row.status;
    const head = `${clip(row.name, nameWidth)}  ${clip(row.className ?? '-', 16)}  ${status.padEnd(9)}  `;
    if (row.findings.length === 0) {
      console.log(`${head}${row.exemption ? `exempt until ${row.exemption.expires}: ${row.exemption.reason}` : row.status === 'evaluated' ? 'within policy' : ''}`);
      continue;
    }
    row.findings.forEach((f, i) => console.log(`${i === 0 ? head : ' '.repeat(head.length)}${f.severity.padEnd(6)} ${f.checkId}: ${f.reason}`));
  }
  const s = summary.secrets;
  console.log(`${s.total} secrets: ${s.compliant} within policy, ${s.nonCompliant} not; ${s.exempt} exempt, ${s.replica} replicas, ${s.deleted} scheduled for deletion, ${s.managed} managed by another service`);
}
