// The rotation functions of the stack, generated from ONE list: one entry per engine. Each gets its
// Lambda function, its own least-privilege role, the permission for this account's Secrets Manager
// to invoke it, its VPC/concurrency switches and its output; the breach role's tag conditions and
// invoke rights list them all. serverless.yml reads this file with ${file(./stack/rotation-functions.cjs):…}.
//
// Adding an engine: one entry in ROTATORS (key = the serverless function name; folder = functions/<folder>/handler.ts).

const ROTATORS = [
  { key: 'rotatePostgresql', folder: 'rotate-postgresql', title: 'PostgreSQL', secrets: 'PostgreSQL' },
  { key: 'rotateMysql', folder: 'rotate-mysql', title: 'MySQL and MariaDB', secrets: 'MySQL/MariaDB' },
];

const logicalBase = (key) => key[0].toUpperCase() + key.slice(1);
const functionName = (key) => '${self:service}-${sls:stage}-' + key;
const secretArn = (prefix) => ({ 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${param:' + prefix + '}*' });
const ifCondition = (condition, then) => ({ 'Fn::If': [condition, then, { Ref: 'AWS::NoValue' }] });

function rotationRole({ key, title }) {
  const name = functionName(key);
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `Rotation function for ${title} secrets (\${sls:stage})`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: 'rotate',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [`${logicalBase(key)}LogGroup`, 'Arn'] } },
              // X-Ray has no resource-level permissions.
              { Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
              {
                Sid: 'RotatedSecrets',
                Effect: 'Allow',
                Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
                Resource: secretArn('secretNamePrefix'),
                Condition: { StringEquals: { 'aws:ResourceTag/RotatedBy': name } },
              },
              // DescribeSecret: an RDS-managed admin secret's tags name its instance or cluster.
              {
                Sid: 'AdminSecrets',
                Effect: 'Allow',
                Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
                Resource: secretArn('adminSecretNamePrefix'),
                Condition: { StringEquals: { 'aws:ResourceTag/RotationAdminFor': name } },
              },
              // Host, port and engine of an RDS-managed admin secret's database (read only).
              {
                Sid: 'RdsEndpoints',
                Effect: 'Allow',
                Action: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
                Resource: [
                  { 'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:*' },
                  { 'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:*' },
                ],
              },
            ],
          },
        },
        ifCondition('HasKmsKeys', {
          PolicyName: 'kms',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              // Only the listed keys, only through Secrets Manager.
              {
                Sid: 'SecretsKmsKeys',
                Effect: 'Allow',
                Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
                Resource: { 'Fn::Split': [',', '${param:kmsKeyArns}'] },
                Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' } } },
              },
            ],
          },
        }),
        ifCondition('HasVpc', {
          PolicyName: 'vpc',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              // As AWSLambdaVPCAccessExecutionRole, without its logs:*.
              {
                Sid: 'VpcNetworkInterfaces',
                Effect: 'Allow',
                Action: [
                  'ec2:CreateNetworkInterface',
                  'ec2:DescribeNetworkInterfaces',
                  'ec2:DescribeSubnets',
                  'ec2:DeleteNetworkInterface',
                  'ec2:AssignPrivateIpAddresses',
                  'ec2:UnassignPrivateIpAddresses',
                ],
                Resource: '*',
              },
            ],
          },
        }),
      ],
    },
  };
}

/** serverless.yml `functions:` entries of the rotators. */
function functions() {
  return Object.fromEntries(
    ROTATORS.map(({ key, folder, title }) => [
      key,
      {
        handler: `functions/${folder}/handler.handler`,
        name: functionName(key),
        description: `Rotates ${title} credentials in Secrets Manager (single user, alternating users, pre-created pair)`,
        role: `${logicalBase(key)}Role`,
        timeout: '${param:rotationTimeout}',
        environment: {
          PASSWORD_LENGTH: '${param:passwordLength}',
          DB_CONNECT_TIMEOUT_MS: '${param:connectTimeoutMs}',
          // Node 20+ Lambda runtimes no longer trust the RDS CAs by default; this bundle includes them.
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
          POWERTOOLS_SERVICE_NAME: folder,
          // EXCLUDE_CHARACTERS is not set: each engine's code default applies (an empty value would exclude nothing).
        },
      },
    ]),
  );
}

/** serverless.yml `resources:` of the rotators: roles, invoke permissions, switches, outputs. */
function resources() {
  const extensions = {};
  const Resources = {};
  const Outputs = {};
  for (const rotator of ROTATORS) {
    const base = logicalBase(rotator.key);
    // VPC and reserved concurrency are optional, so they are set with Fn::If rather than through
    // `vpc:` / `reservedConcurrency:`, which cannot be switched off by a parameter.
    extensions[`${base}LambdaFunction`] = {
      Properties: {
        ReservedConcurrentExecutions: { 'Fn::If': ['HasRotationConcurrency', '${param:rotationReservedConcurrency}', { Ref: 'AWS::NoValue' }] },
        VpcConfig: ifCondition('HasVpc', {
          SubnetIds: { 'Fn::Split': [',', '${param:subnetIds}'] },
          SecurityGroupIds: { 'Fn::Split': [',', '${param:securityGroupIds}'] },
        }),
      },
    };
    Resources[`${base}Role`] = rotationRole(rotator);
    // SourceAccount: only this account's Secrets Manager (confused-deputy protection); SourceArn:
    // only secrets under the name prefix.
    Resources[`${base}SecretsManagerPermission`] = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: { 'Fn::GetAtt': [`${base}LambdaFunction`, 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: secretArn('secretNamePrefix'),
      },
    };
    // Exported so that a secret's own stack can import the RotationLambdaARN (cloudformation/rotation-schedule-*.yml).
    Outputs[`${base}FunctionArn`] = {
      Description: `RotationLambdaARN for ${rotator.secrets} secrets (tag them RotatedBy=${functionName(rotator.key)})`,
      Value: { 'Fn::GetAtt': [`${base}LambdaFunction`, 'Arn'] },
      Export: { Name: `\${self:service}-\${sls:stage}-${base}FunctionArn` },
    };
  }
  return { extensions, Resources, Outputs };
}

module.exports = {
  functions,
  resources,
  /** Every rotator's function name: the values of RotatedBy / RotationAdminFor the breach role may act on. */
  names: () => ROTATORS.map(({ key }) => functionName(key)),
  /** Every rotator's ARN, for the breach role's lambda:InvokeFunction. */
  arns: () => ROTATORS.map(({ key }) => ({ 'Fn::GetAtt': [`${logicalBase(key)}LambdaFunction`, 'Arn'] })),
};
