// What Slack puts in `view.state.values` and `actions[]` for the interactive elements of a
// stored view or message, derived from the blocks exactly as the app sent them.

type Json = Record<string, any>;

/**
 * A user's input for one element: text, an option value, several option values, or cleared. For an
 * external select the driver turns an option value into `chosen_option`, the option the app offered.
 */
export type ElementInput = string | string[] | { selected_option: string } | { chosen_option: Json } | null;

export interface LocatedElement {
  block: Json;
  element: Json;
  blockId: string;
  actionId: string;
  inInput: boolean;
}

const MULTI_SELECT_STATE_KEYS: Record<string, [string, string]> = {
  multi_users_select: ['selected_users', 'initial_users'],
  multi_conversations_select: ['selected_conversations', 'initial_conversations'],
  multi_channels_select: ['selected_channels', 'initial_channels'],
};

const SINGLE_PICK_STATE_KEYS: Record<string, [string, string]> = {
  users_select: ['selected_user', 'initial_user'],
  conversations_select: ['selected_conversation', 'initial_conversation'],
  channels_select: ['selected_channel', 'initial_channel'],
  datepicker: ['selected_date', 'initial_date'],
  timepicker: ['selected_time', 'initial_time'],
  datetimepicker: ['selected_date_time', 'initial_date_time'],
};

const OPTION_SELECT_TYPES = new Set(['static_select', 'external_select', 'radio_buttons', 'overflow']);
const MULTI_OPTION_TYPES = new Set(['checkboxes', 'multi_static_select', 'multi_external_select']);
const TEXT_VALUE_TYPES = new Set(['plain_text_input', 'email_text_input', 'url_text_input', 'number_input']);

function elementsOf(block: Json): { element: Json; inInput: boolean }[] {
  if (block.type === 'input' && block.element) return [{ element: block.element, inInput: true }];
  if (block.type === 'section' && block.accessory) return [{ element: block.accessory, inInput: false }];
  if (block.type === 'actions' && Array.isArray(block.elements)) {
    return block.elements.map((element: Json) => ({ element, inInput: false }));
  }
  return [];
}

export function interactiveElements(blocks: Json[] | undefined): LocatedElement[] {
  const found: LocatedElement[] = [];
  for (const block of blocks ?? []) {
    for (const { element, inInput } of elementsOf(block)) {
      if (typeof element.action_id !== 'string') continue;
      found.push({ block, element, blockId: block.block_id, actionId: element.action_id, inInput });
    }
  }
  return found;
}

export function findElement(
  blocks: Json[] | undefined,
  actionId: string,
  blockId?: string,
): LocatedElement | undefined {
  return interactiveElements(blocks).find(
    (located) => located.actionId === actionId && (blockId === undefined || located.blockId === blockId),
  );
}

function allOptions(element: Json): Json[] {
  if (Array.isArray(element.options)) return element.options;
  if (Array.isArray(element.option_groups)) return element.option_groups.flatMap((group: Json) => group.options ?? []);
  return [];
}

/**
 * The option object Slack echoes back for a chosen value. An external select has no options of its
 * own: only its initial option, or one the app offered in a block_suggestion answer (see the driver).
 */
export function lookupOption(element: Json, value: string): Json {
  if (element.type === 'external_select' || element.type === 'multi_external_select') {
    const initial = [element.initial_option, ...(element.initial_options ?? [])].find((o) => o?.value === value);
    if (initial) return structuredClone(initial);
    throw new Error(
      `Slack stand-in: external select ${JSON.stringify(element.action_id)} can only be set to its initial option ` +
        `or an option the app suggested (got ${JSON.stringify(value)})`,
    );
  }
  const option = allOptions(element).find((candidate) => candidate.value === value);
  if (!option) {
    const known = allOptions(element).map((candidate) => candidate.value);
    throw new Error(
      `Slack stand-in: element ${JSON.stringify(element.action_id)} has no option ` +
        `with value ${JSON.stringify(value)} (options: ${JSON.stringify(known)})`,
    );
  }
  return structuredClone(option);
}

function optionValueOf(input: ElementInput): string | null {
  if (input === null) return null;
  if (typeof input === 'string') return input;
  if (Array.isArray(input)) return input[0] ?? null;
  if ('chosen_option' in input) return input.chosen_option.value;
  return input.selected_option;
}

function isChosen(input: ElementInput | undefined): input is { chosen_option: Json } {
  return typeof input === 'object' && input !== null && !Array.isArray(input) && 'chosen_option' in input;
}

function richTextOf(text: string): Json {
  return {
    type: 'rich_text',
    elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }],
  };
}

/**
 * The `state.values[block_id][action_id]` entry for an element, from the user's input or the
 * element's initial value.
 */
export function stateValueFor(element: Json, input: ElementInput | undefined): Json {
  const type: string = element.type;
  const useInitial = input === undefined;
  if (TEXT_VALUE_TYPES.has(type)) {
    const value = useInitial ? (element.initial_value ?? null) : optionValueOf(input);
    return { type, value };
  }
  if (type === 'rich_text_input') {
    if (useInitial) return { type, rich_text_value: element.initial_value ?? null };
    const text = optionValueOf(input);
    return { type, rich_text_value: text === null ? null : richTextOf(text) };
  }
  if (OPTION_SELECT_TYPES.has(type)) {
    if (useInitial) return { type, selected_option: element.initial_option ?? null };
    if (isChosen(input)) return { type, selected_option: structuredClone(input.chosen_option) };
    const value = optionValueOf(input);
    return { type, selected_option: value === null ? null : lookupOption(element, value) };
  }
  if (MULTI_OPTION_TYPES.has(type)) {
    if (useInitial) return { type, selected_options: element.initial_options ?? [] };
    const values = input === null ? [] : Array.isArray(input) ? input : [optionValueOf(input) as string];
    return { type, selected_options: values.map((value) => lookupOption(element, value)) };
  }
  const multi = MULTI_SELECT_STATE_KEYS[type];
  if (multi) {
    const [stateKey, initialKey] = multi;
    if (useInitial) return { type, [stateKey]: element[initialKey] ?? [] };
    return { type, [stateKey]: input === null ? [] : Array.isArray(input) ? input : [optionValueOf(input)] };
  }
  const single = SINGLE_PICK_STATE_KEYS[type];
  if (single) {
    const [stateKey, initialKey] = single;
    if (useInitial) return { type, [stateKey]: element[initialKey] ?? null };
    const value = optionValueOf(input);
    const typed = type === 'datetimepicker' && value !== null ? Number(value) : value;
    return { type, [stateKey]: typed };
  }
  throw new Error(`Slack stand-in: element type ${JSON.stringify(type)} has no input state`);
}

/**
 * `view.state.values` as Slack builds it: one entry per input-block element, holding what
 * the user entered (by action_id) or else the element's initial value.
 */
export function buildStateValues(blocks: Json[] | undefined, inputsByActionId: Map<string, ElementInput>): Json {
  const values: Json = {};
  for (const located of interactiveElements(blocks)) {
    if (!located.inInput) continue;
    values[located.blockId] = {
      [located.actionId]: stateValueFor(located.element, inputsByActionId.get(located.actionId)),
    };
  }
  return values;
}

/** One entry of a block_actions payload's `actions[]`. */
export function buildAction(located: LocatedElement, input: ElementInput | undefined, actionTs: string): Json {
  const { element } = located;
  const base: Json = {
    type: element.type,
    action_id: located.actionId,
    block_id: located.blockId,
    action_ts: actionTs,
  };
  if (element.type === 'button') {
    const value = input === undefined ? element.value : optionValueOf(input);
    return {
      ...base,
      text: element.text,
      ...(value === undefined || value === null ? {} : { value }),
      ...(element.style ? { style: element.style } : {}),
    };
  }
  const state = stateValueFor(element, input);
  const { type: _type, ...selection } = state;
  return {
    ...base,
    ...selection,
    ...(element.placeholder ? { placeholder: element.placeholder } : {}),
  };
}
