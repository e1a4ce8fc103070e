import { BrokerError } from '../domain/errors';

/** Rejects with a BrokerError('unavailable') when `promise` takes longer than `ms`: a broker call on a budget. */
export function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerError('unavailable', 'Alpaca took too long to answer')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
