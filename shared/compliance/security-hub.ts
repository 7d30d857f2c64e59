// Security Hub output. Before the scan, the findings this scanner left ACTIVE are read (GetFindings,
// paced to its 3 requests/s), which gives each finding's CreatedAt (kept fixed at first sight) and
// the set to resolve. During the scan, failed findings are imported in batches of at most 100, paced
// below BatchImportFindings' 10 requests/s; a full batch is sent before the next page is read, so
// the queue never exceeds one batch. After a COMPLETE scan, every previously active finding that was
// not reproduced is re-imported with RecordState ARCHIVED and Compliance PASSED. An interrupted scan
// archives nothing, so a partial listing never closes findings.

import { BatchImportFindingsCommand, GetFindingsCommand, type AwsSecurityFinding, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import { checkIdOf, GENERATOR_PREFIX, resolvedAsff, toAsff } from './asff';
import type { CheckId } from './checks';
import type { SecretEvaluation } from './evaluate';
import type { Policy } from './policy';

export const MAX_BATCH = 100;

export interface SecurityHubOptions {
  client: SecurityHubClient;
  productArn: string;
  policy: Policy;
  now: Date;
  /** BatchImportFindings requests per second; Security Hub allows 10 (burst 30). Default 8. */
  importsPerSecond?: number;
  /** GetFindings requests per second; Security Hub allows 3. Default 3. */
  readsPerSecond?: number;
  sleep?: (ms: number) => Promise<void>;
  onBatchFailure?: (failures: { id: string; errorCode: string; errorMessage: string }[]) => void;
}

export interface SecurityHubResult {
  /** Active findings found before the scan. */
  previouslyActive: number;
  imported: number;
  archived: number;
  failed: number;
  batches: number;
}

interface Known {
  createdAt: string;
  updatedAt: string;
}

/** Spaces calls at least `1000 / perSecond` ms apart. */
class Pacer {
  private next = 0;
  constructor(
    private readonly intervalMs: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}
  async wait(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await this.sleep(at - now);
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SecurityHubPublisher {
  private readonly known = new Map<string, Known>();
  private readonly seen = new Set<string>();
  private readonly queue: AwsSecurityFinding[] = [];
  private readonly importPacer: Pacer;
  private readonly readPacer: Pacer;
  private readonly nowIso: string;
  readonly result: SecurityHubResult = { previouslyActive: 0, imported: 0, archived: 0, failed: 0, batches: 0 };

  constructor(private readonly options: SecurityHubOptions) {
    const sleep = options.sleep ?? defaultSleep;
    this.importPacer = new Pacer(1000 / (options.importsPerSecond ?? 8), sleep);
    this.readPacer = new Pacer(1000 / (options.readsPerSecond ?? 3), sleep);
    this.nowIso = options.now.toISOString();
  }

  /** Reads this scanner's active findings (ids and dates only). Call before the scan. */
  async loadActive(): Promise<void> {
    let nextToken: string | undefined;
    do {
      await this.readPacer.wait();
      const page = await this.options.client.send(
        new GetFindingsCommand({
          Filters: {
            ProductArn: [{ Value: this.options.productArn, Comparison: 'EQUALS' }],
            GeneratorId: [{ Value: GENERATOR_PREFIX, Comparison: 'PREFIX' }],
            RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
          },
          MaxResults: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const f of page.Findings ?? []) {
        if (f.Id && f.CreatedAt && f.UpdatedAt) this.known.set(f.Id, { createdAt: f.CreatedAt, updatedAt: f.UpdatedAt });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    this.result.previouslyActive = this.known.size;
  }

  /** UpdatedAt must move strictly forward; if Security Hub holds a later one (clock skew), step past it. */
  private updatedAt(id: string): string {
    const prior = this.known.get(id)?.updatedAt;
    if (prior === undefined || Date.parse(prior) < Date.parse(this.nowIso)) return this.nowIso;
    return new Date(Date.parse(prior) + 1).toISOString();
  }

  /** Queues the page's failed findings; sends every full batch before returning. */
  async addPage(evaluations: SecretEvaluation[]): Promise<void> {
    for (const evaluation of evaluations) {
      for (const finding of evaluation.findings) {
        const id = `${finding.secretArn}/${finding.checkId}`;
        this.seen.add(id);
        const known = this.known.get(id);
        this.queue.push(toAsff(finding, evaluation, { productArn: this.options.productArn, now: this.updatedAt(id), ...(known ? { createdAt: known.createdAt } : {}) }));
        if (this.queue.length >= MAX_BATCH) await this.send(this.queue.splice(0, MAX_BATCH));
      }
    }
  }

  /** Sends what is left; after a complete scan, archives the findings that were not reproduced. */
  async finish({ complete }: { complete: boolean }): Promise<SecurityHubResult> {
    if (complete) {
      for (const [id, known] of this.known) {
        if (this.seen.has(id)) continue;
        const parsed = checkIdOf(id);
        if (!parsed) continue;
        const severity = this.options.policy.checks[parsed.checkId as CheckId].severity;
        this.queue.push(resolvedAsff(parsed.secretArn, parsed.checkId, severity, { productArn: this.options.productArn, now: this.updatedAt(id), createdAt: known.createdAt }));
        this.result.archived++;
        if (this.queue.length >= MAX_BATCH) await this.send(this.queue.splice(0, MAX_BATCH));
      }
    }
    while (this.queue.length > 0) await this.send(this.queue.splice(0, MAX_BATCH));
    return this.result;
  }

  private async send(batch: AwsSecurityFinding[]): Promise<void> {
    await this.importPacer.wait();
    const out = await this.options.client.send(new BatchImportFindingsCommand({ Findings: batch }));
    this.result.batches++;
    this.result.imported += out.SuccessCount ?? 0;
    this.result.failed += out.FailedCount ?? 0;
    if (out.FailedFindings && out.FailedFindings.length > 0) {
      this.options.onBatchFailure?.(
        out.FailedFindings.map((f) => ({ id: f.Id ?? '', errorCode: f.ErrorCode ?? '', errorMessage: f.ErrorMessage ?? '' })),
      );
    }
  }
}
