import { printTable } from './table';
import { benchReconcile } from './reconcile';
printTable(await benchReconcile());
await new Promise((r) => process.stdout.write('', r)); process.exit(0);
