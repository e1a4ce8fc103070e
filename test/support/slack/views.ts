// Modals and Home tabs as Slack keeps them: ids, hashes and defaults filled in, every version
// kept, modals stacked at most three deep, and what the user has typed into each view so far.
import { randomBytes } from 'node:crypto';
import type { Json } from './json';
import { randomId, type Workspace } from './state';
import { buildStateValues, type ElementInput, interactiveElements } from './view-state';

const MAX_VIEW_STACK = 3;

export interface StoredView {
  id: string;
  type: 'modal' | 'home';
  userId: string;
  /** The view as Slack returns it: what the app sent plus id, hash, state, ids filled in. */
  view: Json;
  /** Every version of the view, oldest first; the last one is `view`. */
  history: Json[];
  closed: boolean;
  /** Errors from the latest `response_action: 'errors'` ack, by block_id. */
  errors?: Record<string, string>;
  /** The options the app last offered for each external select (block_suggestion answers), by action_id. */
  suggestions?: Map<string, Json[]>;
}

function newHash(): string {
  return `${Math.floor(Date.now() / 1000)}.${randomBytes(6).toString('base64url')}`;
}

/** Slack fills in block_id / action_id the app left out; state and submissions are keyed by them. */
function withIds(blocks: unknown): Json[] {
  if (!Array.isArray(blocks)) return [];
  const copy = structuredClone(blocks) as Json[];
  for (const block of copy) {
    if (block.block_id === undefined) block.block_id = randomBytes(4).toString('base64url').slice(0, 5);
    const elements: Json[] =
      block.type === 'actions' ? (block.elements ?? []) : [block.accessory, block.element].filter(Boolean);
    for (const element of elements) {
      if (element.type !== 'image' && element.action_id === undefined) {
        element.action_id = randomBytes(4).toString('base64url').slice(0, 5);
      }
    }
  }
  return copy;
}

export class ViewStore {
  readonly byId = new Map<string, StoredView>();
  private readonly homeViewByUser = new Map<string, string>();
  /** What the user has typed or picked in each view so far, by view id then action_id. */
  private readonly viewInputs = new Map<string, Map<string, ElementInput>>();

  constructor(private readonly app: Pick<Workspace, 'teamId' | 'appId' | 'botId'>) {}

  homeView(userId: string): StoredView | undefined {
    const id = this.homeViewByUser.get(userId);
    return id ? this.byId.get(id) : undefined;
  }

  openModals(userId: string): StoredView[] {
    return [...this.byId.values()].filter((v) => v.type === 'modal' && v.userId === userId && !v.closed);
  }

  /** A Home tab becomes the user's Home; a modal pushed from `previous` joins its stack. */
  create(sent: Json, type: 'modal' | 'home', userId: string, previous?: StoredView): StoredView {
    const id = randomId('V');
    const view = this.materialize(sent, {
      id,
      rootViewId: previous ? (previous.view.root_view_id ?? previous.id) : id,
      previousViewId: previous?.id ?? null,
    });
    const stored: StoredView = { id, type, userId, view, history: [view], closed: false };
    this.byId.set(id, stored);
    this.viewInputs.set(id, new Map());
    if (type === 'home') this.homeViewByUser.set(userId, id);
    return stored;
  }

  replace(stored: StoredView, sent: Json): void {
    // Slack keeps what was entered only in inputs whose block_id and action_id are both unchanged.
    const blockOf = (blocks: Json[] | undefined) =>
      new Map(
        interactiveElements(blocks)
          .filter((e) => e.inInput)
          .map((e) => [e.actionId, e.blockId]),
      );
    const before = blockOf(stored.view.blocks);
    const after = blockOf(withIds(sent.blocks));
    const inputs = this.viewInputs.get(stored.id);
    for (const actionId of [...(inputs?.keys() ?? [])]) {
      if (after.get(actionId) === undefined || after.get(actionId) !== before.get(actionId)) inputs?.delete(actionId);
    }
    const view = this.materialize(sent, {
      id: stored.id,
      rootViewId: stored.view.root_view_id ?? null,
      previousViewId: stored.view.previous_view_id ?? null,
      externalId: sent.external_id ?? stored.view.external_id,
    });
    stored.view = view;
    stored.history.push(view);
    delete stored.errors;
  }

  /** Any view, open or closed, with this non-empty external_id. */
  byExternalId(externalId: unknown): StoredView | undefined {
    if (typeof externalId !== 'string' || externalId === '') return undefined;
    return [...this.byId.values()].find((v) => v.view.external_id === externalId);
  }

  close(stored: StoredView, wholeStack: boolean): void {
    stored.closed = true;
    if (!wholeStack) return;
    const rootId = stored.view.root_view_id ?? stored.id;
    for (const view of this.byId.values()) {
      if (view.type === 'modal' && (view.view.root_view_id ?? view.id) === rootId) view.closed = true;
    }
  }

  /** Whether pushing onto `stored` would exceed Slack's three stacked modals. */
  stackFull(stored: StoredView): boolean {
    let depth = 1;
    let current: StoredView | undefined = stored;
    while (current?.view.previous_view_id) {
      current = this.byId.get(current.view.previous_view_id);
      if (current && !current.closed) depth += 1;
    }
    return depth >= MAX_VIEW_STACK;
  }

  /** Records the user's inputs; an unknown action_id or option value throws and records nothing. */
  recordInputs(stored: StoredView, values: Record<string, ElementInput>): void {
    const inputActionIds = new Set(
      interactiveElements(stored.view.blocks)
        .filter((e) => e.inInput)
        .map((e) => e.actionId),
    );
    const unknown = Object.keys(values).filter((actionId) => !inputActionIds.has(actionId));
    if (unknown.length > 0) {
      const names = unknown.map((id) => JSON.stringify(id)).join(', ');
      throw new Error(
        `Slack stand-in: view ${stored.id} has no input element with action_id ${names} ` +
          `(inputs: ${JSON.stringify([...inputActionIds])})`,
      );
    }
    const merged = new Map(this.viewInputs.get(stored.id));
    for (const [actionId, value] of Object.entries(values)) merged.set(actionId, value);
    buildStateValues(stored.view.blocks, merged);
    this.viewInputs.set(stored.id, merged);
  }

  /** The view with `state.values` built from what the user has entered. */
  withState(stored: StoredView): Json {
    const inputs = this.viewInputs.get(stored.id) ?? new Map<string, ElementInput>();
    return { ...stored.view, state: { values: buildStateValues(stored.view.blocks, inputs) } };
  }

  private materialize(
    sent: Json,
    ids: { id: string; rootViewId: string | null; previousViewId: string | null; externalId?: string },
  ): Json {
    const type = sent.type === 'home' ? 'home' : 'modal';
    return {
      ...structuredClone(sent),
      id: ids.id,
      team_id: this.app.teamId,
      type,
      blocks: withIds(sent.blocks),
      private_metadata: sent.private_metadata ?? '',
      callback_id: sent.callback_id ?? '',
      state: { values: {} },
      hash: newHash(),
      title: sent.title ?? (type === 'home' ? { type: 'plain_text', text: 'View Title', emoji: true } : undefined),
      clear_on_close: sent.clear_on_close ?? false,
      notify_on_close: sent.notify_on_close ?? false,
      close: sent.close ?? null,
      submit: sent.submit ?? null,
      previous_view_id: ids.previousViewId,
      root_view_id: ids.rootViewId,
      app_id: this.app.appId,
      external_id: ids.externalId ?? sent.external_id ?? '',
      app_installed_team_id: this.app.teamId,
      bot_id: this.app.botId,
    };
  }
}
