// The sandbox's in-memory picture of Secrets Manager. Field names follow the API so that
// responses are a projection of these records, not a translation.

export interface Tag {
  Key: string;
  Value: string;
}

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

export interface StoredVersion {
  versionId: string;
  /** Absent for the value-less AWSPENDING stub that RotateSecret registers. */
  secretString?: string;
  secretBinary?: Buffer;
  createdDate: Date;
  lastAccessedDate?: Date;
  /** Staging labels; each label sits on at most one version of a secret. */
  stages: Set<string>;
}

export interface StoredSecret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  createdDate: Date;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  lastRotatedDate?: Date;
  /** Set while the secret is scheduled for deletion: the date it will be deleted. */
  deletedDate?: Date;
  rotationEnabled?: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRules;
  nextRotationDate?: Date;
  owningService?: string;
  primaryRegion: string;
  /** Insertion-ordered: the oldest version first. */
  versions: Map<string, StoredVersion>;
}

/** The ListSecrets filter keys the API accepts. */
export type FilterKey =
  | 'description'
  | 'name'
  | 'tag-key'
  | 'tag-value'
  | 'primary-region'
  | 'owning-service'
  | 'all';

export interface ListFilter {
  Key: FilterKey;
  Values: string[];
}
