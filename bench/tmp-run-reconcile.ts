import { printTable } from './table';
import { benchReconcile } from './reconcile';
printTable(await benchReconcile());
process.exit(0);
