/**
 * The import rule of README.md ("Architecture"), checked in CI by `npm run lint:deps`. Each rule
 * names the arrow it forbids; change one only with the reason in the commit message.
 *
 * Layers: domain (pure rules and types) ← broker, db ← services ← jobs, slack, http ← app.ts / main.ts.
 * The Slack layer is one folder per surface (trade, portfolio, home, reconcile, approvals, digest) plus block-kit
 * (primitives and formatting) and a few root files: register.ts wires every listener, access.ts
 * and deps.ts are what surfaces may share.
 */
const SURFACES = '(trade|portfolio|home|reconcile|approvals|digest)';
const SDKS = '^node_modules/(@slack|@alpacahq)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'No import cycles anywhere in src/ (type-only imports count too).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-imports-nothing-of-ours',
      comment: 'domain/ is pure rules and types: it imports only other domain files (and libraries).',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'charts-are-pure',
      comment:
        'charts/ turns view models into pictures (SVG, PNG): it imports only domain/ and libraries, ' +
        'so a chart is a function of its model and can be tested and benchmarked alone.',
      severity: 'error',
      from: { path: '^src/charts/' },
      to: { path: '^src/', pathNot: '^src/(charts|domain)/' },
    },
    {
      name: 'broker-and-db-below-services',
      comment: 'The broker adapter and the database layer know domain types, never services, jobs, Slack or HTTP.',
      severity: 'error',
      from: { path: '^src/(broker|db)/' },
      to: { path: '^src/(services|jobs|slack|http|app\\.ts|main\\.ts)' },
    },
    {
      name: 'db-and-broker-apart',
      comment: 'The database layer and the broker adapter do not know each other.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/broker/' },
    },
    {
      name: 'services-know-nothing-of-their-callers',
      comment: 'Services never import slack/, http/, jobs/ or the composition root.',
      severity: 'error',
      from: { path: '^src/services/' },
      to: { path: '^src/(slack|http|jobs|app\\.ts|main\\.ts)' },
    },
    {
      name: 'services-use-no-sdk',
      comment: 'Services never import the Slack or Alpaca SDKs: the broker port and the outbox stand between.',
      severity: 'error',
      from: { path: '^src/services/' },
      to: { path: SDKS },
    },
    {
      name: 'slack-and-http-never-touch-the-database',
      comment: 'Nothing under slack/ or http/ imports db/ (they call services).',
      severity: 'error',
      from: { path: '^src/(slack|http)/' },
      to: { path: '^src/db/' },
    },
    {
      name: 'slack-never-calls-the-broker',
      comment: 'The Slack layer reaches Alpaca only through services.',
      severity: 'error',
      from: { path: '^src/slack/' },
      to: { path: '^src/broker/' },
    },
    {
      name: 'surfaces-stay-apart',
      comment:
        'A surface folder imports only itself, block-kit/, access.ts, deps.ts, services/ and domain/: ' +
        'a button on one surface that another answers is wired in register.ts.',
      severity: 'error',
      from: { path: `^src/slack/${SURFACES}/` },
      to: {
        path: '^src/',
        pathNot: [
          '^src/slack/$1/',
          '^src/slack/block-kit/',
          '^src/slack/(access|deps)\\.ts$',
          '^src/services/',
          '^src/domain/',
          '^src/(logger|lifecycle|config)\\.ts$',
        ],
      },
    },
    {
      name: 'block-kit-is-shared-by-all',
      comment: 'block-kit/ holds primitives and formatting for every surface: it imports no surface and no service.',
      severity: 'error',
      from: { path: '^src/slack/block-kit/' },
      to: { path: `^src/(slack/${SURFACES}/|slack/(register|notifications|deps)\\.ts|services/)` },
    },
    {
      name: 'views-are-pure',
      comment:
        'Block Kit builders (block-kit/, *-view, *-message(s), *-modal, *-alert) take their own view models: ' +
        'no service, repository, broker or logger.',
      severity: 'error',
      from: { path: `^src/slack/(block-kit/|${SURFACES}/[^/]*-(view|message|messages|modal|alert)\\.ts$)` },
      to: { path: '^src/(services|db|broker|jobs|logger\\.ts|lifecycle\\.ts|config\\.ts)' },
    },
    {
      name: 'jobs-below-the-surfaces',
      comment: 'Scheduled and background jobs call services; they know nothing of Slack or HTTP.',
      severity: 'error',
      from: { path: '^src/jobs/' },
      to: { path: '^src/(slack|http)/' },
    },
    {
      name: 'http-is-its-own-front-door',
      comment: 'The HTTP layer calls services; it does not reach into Slack or jobs.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/(slack|jobs)/' },
    },
    {
      name: 'only-main-imports-the-composition-root',
      comment: 'app.ts is the only file that wires everything; nothing but main.ts imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(app|main)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
