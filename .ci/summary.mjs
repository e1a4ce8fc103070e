// Prints vitest's JSON results as one plain closing line ("N passed, N failed, N skipped") and
// fails when a pass that must exercise PostgreSQL skipped its PostgreSQL tests.
import { readFileSync } from 'node:fs';

const [file, label] = process.argv.slice(2);
const r = JSON.parse(readFileSync(file, 'utf8'));
const skipped = r.numPendingTests + r.numTodoTests;
let pgSkipped = 0;
for (const suite of r.testResults) {
  for (const t of suite.assertionResults) {
    // Suites skipped for want of a server say so in their names ("SKIPPED: set TEST_DATABASE_URL …").
    if (t.status !== 'passed' && t.status !== 'failed' && /TEST_DATABASE_URL/.test(t.ancestorTitles.join(' ') + ' ' + t.title)) pgSkipped += 1;
  }
}
console.log(`${label}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (label === 'postgresql' && pgSkipped > 0) {
  console.error(`${pgSkipped} PostgreSQL tests were skipped in the PostgreSQL pass`);
  process.exit(1);
}
if (r.numFailedTests > 0 || !r.success) process.exit(1);
