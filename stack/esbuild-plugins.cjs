// esbuild plugins of the deployable bundles: serverless.yml's custom.esbuild.plugins loads this file
// (serverless-esbuild builds one bundle per function, one entry point each), and bench/ builds with
// the same list.
//
// runtimeProvided: modules left out of ONE function's bundle because the Lambda Node.js runtime
// provides them (its AWS SDK v3 in /var/runtime/node_modules, found through NODE_PATH). serverless-esbuild's
// `exclude` applies to every function alike; this is the per-function part. The trade-off of each
// entry (size and cold start against running the runtime's SDK version instead of the one pinned
// and tested here) is in README "Deployment", "What each bundle carries".

const path = require('node:path');

const root = path.join(__dirname, '..');

/** Per function entry point (relative to the repository root): the packages the runtime provides. */
const RUNTIME_PROVIDED = {
  // ListSecrets, BatchImportFindings and GetFindings only, long-stable calls. A scan is idempotent
  // and runs again on the next schedule; no credential depends on it. 289 KB → 67 KB zipped.
  'functions/compliance-scan/handler.ts': ['@aws-sdk/client-secrets-manager', '@aws-sdk/client-securityhub'],
};

const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** @returns {import('esbuild').Plugin} */
function runtimeProvided() {
  return {
    name: 'runtime-provided',
    setup(build) {
      const entries = build.initialOptions.entryPoints;
      const list = Array.isArray(entries) ? entries : Object.values(entries ?? {});
      const cwd = build.initialOptions.absWorkingDir ?? process.cwd();
      const modules = new Set(
        list.flatMap((entry) => {
          const file = typeof entry === 'string' ? entry : entry.in;
          return RUNTIME_PROVIDED[path.relative(root, path.resolve(cwd, file)).split(path.sep).join('/')] ?? [];
        }),
      );
      if (modules.size === 0) return;
      const filter = new RegExp(`^(${[...modules].map(escape).join('|')})(/.*)?$`);
      build.onResolve({ filter }, (args) => ({ path: args.path, external: true }));
    },
  };
}

module.exports = [runtimeProvided()];
module.exports.RUNTIME_PROVIDED = RUNTIME_PROVIDED;
