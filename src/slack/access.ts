import type { Config } from '../config';

/**
 * Who may do what, from TRADER_USER_IDS and ADMIN_USER_IDS — the one place that decides, for the
 * listeners and for the Home tab alike.
 */
export class SlackAccess {
  constructor(private readonly config: Pick<Config, 'traderUserIds' | 'adminUserIds'>) {}

  /** With no TRADER_USER_IDS every member trades. */
  mayTrade(userId: string): boolean {
    return this.config.traderUserIds.length === 0 || this.config.traderUserIds.includes(userId);
  }

  isAdmin(userId: string): boolean {
    return this.config.adminUserIds.includes(userId);
  }

  /** The broker account and positions are for traders and admins. */
  mayViewAccount(userId: string): boolean {
    return this.mayTrade(userId) || this.isAdmin(userId);
  }
}
