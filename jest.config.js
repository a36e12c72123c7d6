/** Unit (*.spec.ts), real-database (*.db-spec.ts) and e2e (*.e2e-spec.ts) tests, all on real PostgreSQL and NATS. */
const moduleNameMapper = {
  '^@app/(contracts|messaging|persistence|config|platform|testing)(|/.*)$': '<rootDir>/libs/$1/src$2',
};
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/apps/', '<rootDir>/libs/', '<rootDir>/test/'],
  testRegex: '.*\\.(spec|db-spec|e2e-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/apps/web/'],
  transform: { '^.+\\.(t|j)s$': 'ts-jest' },
  testEnvironment: 'node',
  moduleNameMapper,
  globalSetup: '<rootDir>/test/global-setup.ts',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testTimeout: 30000,
  forceExit: true,
};
