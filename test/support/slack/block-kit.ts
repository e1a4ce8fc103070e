// Block Kit limits as Slack enforces them, written independently of the app's own view
// builders so the stand-in rejects what real Slack would reject. Each problem is reported
// as "<json-pointer path>: <reason>".

export type BlockKitSurface = 'message' | 'modal' | 'home';

type Json = Record<string, unknown>;

export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  modalTitle: 24,
  modalButton: 24,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  selectOptions: 100,
  selectOptionGroups: 100,
  optionGroupLabel: 75,
  radioOrCheckboxOptions: 10,
  overflowOptions: 5,
  placeholder: 150,
  inputLabel: 2000,
  inputHint: 2000,
  plainTextInputLength: 3000,
  privateMetadata: 3000,
  id: 255,
  imageAltText: 2000,
  imageUrl: 3000,
  markdownText: 12_000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

const L = BLOCK_KIT_LIMITS;

const BLOCK_TYPES = new Set([
  'section',
  'divider',
  'header',
  'context',
  'actions',
  'input',
  'image',
  'rich_text',
  'markdown',
  'video',
  'file',
]);

const SELECT_TYPES = new Set(['static_select', 'multi_static_select']);
const EXTERNAL_SELECT_TYPES = new Set(['external_select', 'multi_external_select']);
const OTHER_SELECT_TYPES = new Set([
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
]);
const PICKER_TYPES = new Set(['datepicker', 'timepicker', 'datetimepicker']);
const TEXT_INPUT_TYPES = new Set([
  'plain_text_input',
  'email_text_input',
  'url_text_input',
  'number_input',
  'rich_text_input',
]);

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Checker {
  readonly problems: string[] = [];
  private readonly blockIds = new Set<string>();
  private readonly actionIds = new Set<string>();

  constructor(private readonly surface: BlockKitSurface) {}

  report(path: string, reason: string): void {
    this.problems.push(`${path || '/'}: ${reason}`);
  }

  text(path: string, value: unknown, max: number, opts: { plainOnly?: boolean; required?: boolean } = {}): void {
    if (value === undefined || value === null) {
      if (opts.required !== false) this.report(path, 'is required');
      return;
    }
    if (!isRecord(value)) {
      this.report(path, 'must be a text object');
      return;
    }
    const type = value.type;
    if (opts.plainOnly && type !== 'plain_text') {
      this.report(`${path}/type`, `must be plain_text (got ${JSON.stringify(type)})`);
    } else if (type !== 'plain_text' && type !== 'mrkdwn') {
      this.report(`${path}/type`, `must be plain_text or mrkdwn (got ${JSON.stringify(type)})`);
    }
    if (typeof value.text !== 'string') {
      this.report(`${path}/text`, 'must be a string');
      return;
    }
    if (value.text.length === 0) this.report(`${path}/text`, 'must be more than 0 characters');
    if (value.text.length > max)
      this.report(`${path}/text`, `must be at most ${max} characters (got ${value.text.length})`);
  }

  optionalString(path: string, value: unknown, max: number): void {
    if (value === undefined) return;
    if (typeof value !== 'string') {
      this.report(path, 'must be a string');
      return;
    }
    if (value.length > max) this.report(path, `must be at most ${max} characters (got ${value.length})`);
  }

  blockId(path: string, value: unknown): void {
    if (value === undefined) return;
    if (typeof value !== 'string' || value.length === 0) {
      this.report(path, 'must be a non-empty string');
      return;
    }
    if (value.length > L.id) this.report(path, `must be at most ${L.id} characters (got ${value.length})`);
    if (this.blockIds.has(value)) this.report(path, `duplicate block_id ${JSON.stringify(value)}`);
    this.blockIds.add(value);
  }

  actionId(path: string, value: unknown): void {
    if (value === undefined) return;
    if (typeof value !== 'string' || value.length === 0) {
      this.report(path, 'must be a non-empty string');
      return;
    }
    if (value.length > L.id) this.report(path, `must be at most ${L.id} characters (got ${value.length})`);
    if (this.actionIds.has(value)) this.report(path, `duplicate action_id ${JSON.stringify(value)}`);
    this.actionIds.add(value);
  }

  blocks(path: string, blocks: unknown, max: number): void {
    if (blocks === undefined) return;
    if (!Array.isArray(blocks)) {
      this.report(path, 'must be an array');
      return;
    }
    if (blocks.length > max) this.report(path, `no more than ${max} items allowed (got ${blocks.length})`);
    blocks.forEach((block, i) => this.block(`${path}/${i}`, block));
  }

  block(path: string, block: unknown): void {
    if (!isRecord(block)) {
      this.report(path, 'must be an object');
      return;
    }
    const type = block.type;
    if (typeof type !== 'string' || !BLOCK_TYPES.has(type)) {
      this.report(`${path}/type`, `unknown block type ${JSON.stringify(type)}`);
      return;
    }
    this.blockId(`${path}/block_id`, block.block_id);
    switch (type) {
      case 'section':
        return this.section(path, block);
      case 'header':
        return this.text(`${path}/text`, block.text, L.headerText, { plainOnly: true });
      case 'context':
        return this.context(path, block);
      case 'actions':
        return this.actions(path, block);
      case 'input':
        return this.input(path, block);
      case 'image':
        return this.image(path, block, true);
      case 'markdown':
        if (typeof block.text !== 'string') this.report(`${path}/text`, 'must be a string');
        else if (block.text.length > L.markdownText) {
          this.report(`${path}/text`, `must be at most ${L.markdownText} characters (got ${block.text.length})`);
        }
        return;
      case 'rich_text':
        if (!Array.isArray(block.elements)) this.report(`${path}/elements`, 'must be an array');
        return;
      default:
        return;
    }
  }

  section(path: string, block: Json): void {
    if (block.text === undefined && block.fields === undefined) {
      this.report(path, 'section requires text or fields');
    }
    if (block.text !== undefined) this.text(`${path}/text`, block.text, L.sectionText);
    if (block.fields !== undefined) {
      if (!Array.isArray(block.fields)) {
        this.report(`${path}/fields`, 'must be an array');
      } else {
        if (block.fields.length > L.sectionFields) {
          this.report(`${path}/fields`, `no more than ${L.sectionFields} items allowed (got ${block.fields.length})`);
        }
        block.fields.forEach((field, i) => this.text(`${path}/fields/${i}`, field, L.sectionFieldText));
      }
    }
    if (block.accessory !== undefined) this.element(`${path}/accessory`, block.accessory, 'accessory');
  }

  context(path: string, block: Json): void {
    const elements = block.elements;
    if (!Array.isArray(elements) || elements.length === 0) {
      this.report(`${path}/elements`, 'must be a non-empty array');
      return;
    }
    if (elements.length > L.contextElements) {
      this.report(`${path}/elements`, `no more than ${L.contextElements} items allowed (got ${elements.length})`);
    }
    elements.forEach((element, i) => {
      const elementPath = `${path}/elements/${i}`;
      if (isRecord(element) && element.type === 'image') this.image(elementPath, element, false);
      else this.text(elementPath, element, L.sectionText);
    });
  }

  actions(path: string, block: Json): void {
    const elements = block.elements;
    if (!Array.isArray(elements) || elements.length === 0) {
      this.report(`${path}/elements`, 'must be a non-empty array');
      return;
    }
    if (elements.length > L.actionsElements) {
      this.report(`${path}/elements`, `no more than ${L.actionsElements} items allowed (got ${elements.length})`);
    }
    elements.forEach((element, i) => this.element(`${path}/elements/${i}`, element, 'actions'));
  }

  input(path: string, block: Json): void {
    if (this.surface !== 'modal')
      this.report(path, `input blocks are only allowed in modals (not in a ${this.surface})`);
    this.text(`${path}/label`, block.label, L.inputLabel, { plainOnly: true });
    if (block.hint !== undefined) this.text(`${path}/hint`, block.hint, L.inputHint, { plainOnly: true });
    if (block.element === undefined) this.report(`${path}/element`, 'is required');
    else this.element(`${path}/element`, block.element, 'input');
  }

  image(path: string, image: Json, isBlock: boolean): void {
    if (image.image_url === undefined && image.slack_file === undefined) {
      this.report(path, 'image requires image_url or slack_file');
    }
    this.optionalString(`${path}/image_url`, image.image_url, L.imageUrl);
    if (typeof image.alt_text !== 'string' || image.alt_text.length === 0) {
      this.report(`${path}/alt_text`, 'is required');
    } else if (image.alt_text.length > L.imageAltText) {
      this.report(`${path}/alt_text`, `must be at most ${L.imageAltText} characters (got ${image.alt_text.length})`);
    }
    if (isBlock && image.title !== undefined)
      this.text(`${path}/title`, image.title, L.imageAltText, { plainOnly: true });
  }

  element(path: string, element: unknown, where: 'accessory' | 'actions' | 'input'): void {
    if (!isRecord(element)) {
      this.report(path, 'must be an object');
      return;
    }
    const type = element.type;
    if (typeof type !== 'string') {
      this.report(`${path}/type`, 'is required');
      return;
    }
    if (type === 'image') {
      if (where !== 'accessory') this.report(`${path}/type`, `image elements are not allowed in ${where} blocks`);
      this.image(path, element, false);
      return;
    }
    this.actionId(`${path}/action_id`, element.action_id);
    if (element.confirm !== undefined) this.confirm(`${path}/confirm`, element.confirm);
    if (element.placeholder !== undefined) {
      this.text(`${path}/placeholder`, element.placeholder, L.placeholder, { plainOnly: true });
    }
    if (type === 'button') {
      if (where === 'input') this.report(`${path}/type`, 'button elements are not allowed in input blocks');
      this.text(`${path}/text`, element.text, L.buttonText, { plainOnly: true });
      this.optionalString(`${path}/value`, element.value, L.buttonValue);
      this.optionalString(`${path}/url`, element.url, L.buttonUrl);
      if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
        this.report(`${path}/style`, 'must be primary or danger');
      }
    } else if (SELECT_TYPES.has(type)) {
      this.staticSelect(path, element);
    } else if (EXTERNAL_SELECT_TYPES.has(type)) {
      if (element.initial_option !== undefined) this.option(`${path}/initial_option`, element.initial_option, true);
    } else if (type === 'radio_buttons' || type === 'checkboxes') {
      this.optionList(path, element.options, L.radioOrCheckboxOptions, false);
      this.initialOptionsMatch(path, element, Array.isArray(element.options) ? element.options : []);
    } else if (type === 'overflow') {
      if (where === 'input') this.report(`${path}/type`, 'overflow elements are not allowed in input blocks');
      this.optionList(path, element.options, L.overflowOptions, true);
    } else if (TEXT_INPUT_TYPES.has(type)) {
      if (where === 'accessory') this.report(`${path}/type`, `${type} is not allowed as a section accessory`);
      this.textInput(path, element, type);
    } else if (!OTHER_SELECT_TYPES.has(type) && !PICKER_TYPES.has(type)) {
      this.report(`${path}/type`, `unknown element type ${JSON.stringify(type)}`);
    }
  }

  textInput(path: string, element: Json, type: string): void {
    for (const key of ['min_length', 'max_length'] as const) {
      const value = element[key];
      if (value !== undefined && (typeof value !== 'number' || value < 0 || value > L.plainTextInputLength)) {
        this.report(`${path}/${key}`, `must be a number between 0 and ${L.plainTextInputLength}`);
      }
    }
    if (type === 'number_input' && typeof element.is_decimal_allowed !== 'boolean') {
      this.report(`${path}/is_decimal_allowed`, 'is required for number_input');
    }
    if (element.initial_value !== undefined && type !== 'rich_text_input') {
      this.optionalString(`${path}/initial_value`, element.initial_value, L.plainTextInputLength);
    }
  }

  staticSelect(path: string, element: Json): void {
    const hasOptions = element.options !== undefined;
    const hasGroups = element.option_groups !== undefined;
    if (hasOptions === hasGroups) {
      this.report(path, 'static select needs exactly one of options or option_groups');
      return;
    }
    const allOptions: unknown[] = [];
    if (hasOptions) {
      this.optionList(path, element.options, L.selectOptions, true);
      if (Array.isArray(element.options)) allOptions.push(...element.options);
    } else {
      const groups = element.option_groups;
      if (!Array.isArray(groups) || groups.length === 0) {
        this.report(`${path}/option_groups`, 'must be a non-empty array');
        return;
      }
      if (groups.length > L.selectOptionGroups) {
        this.report(
          `${path}/option_groups`,
          `no more than ${L.selectOptionGroups} items allowed (got ${groups.length})`,
        );
      }
      groups.forEach((group, i) => {
        const groupPath = `${path}/option_groups/${i}`;
        if (!isRecord(group)) {
          this.report(groupPath, 'must be an object');
          return;
        }
        this.text(`${groupPath}/label`, group.label, L.optionGroupLabel, { plainOnly: true });
        this.optionList(groupPath, group.options, L.selectOptions, true);
        if (Array.isArray(group.options)) allOptions.push(...group.options);
      });
    }
    this.initialOptionsMatch(path, element, allOptions);
  }

  // Slack refuses an initial option that is not one of the element's options.
  initialOptionsMatch(path: string, element: Json, options: unknown[]): void {
    const values = new Set(options.filter(isRecord).map((option) => option.value));
    if (isRecord(element.initial_option) && !values.has(element.initial_option.value)) {
      this.report(`${path}/initial_option`, 'must match one of the options');
    }
    if (Array.isArray(element.initial_options)) {
      element.initial_options.forEach((option, i) => {
        if (isRecord(option) && !values.has(option.value)) {
          this.report(`${path}/initial_options/${i}`, 'must match one of the options');
        }
      });
    }
  }

  optionList(path: string, options: unknown, max: number, plainOnly: boolean): void {
    if (!Array.isArray(options) || options.length === 0) {
      this.report(`${path}/options`, 'must be a non-empty array');
      return;
    }
    if (options.length > max)
      this.report(`${path}/options`, `no more than ${max} items allowed (got ${options.length})`);
    options.forEach((option, i) => this.option(`${path}/options/${i}`, option, plainOnly));
  }

  option(path: string, option: unknown, plainOnly: boolean): void {
    if (!isRecord(option)) {
      this.report(path, 'must be an object');
      return;
    }
    this.text(`${path}/text`, option.text, L.optionText, { plainOnly });
    if (typeof option.value !== 'string' || option.value.length === 0) {
      this.report(`${path}/value`, 'is required');
    } else if (option.value.length > L.optionValue) {
      this.report(`${path}/value`, `must be at most ${L.optionValue} characters (got ${option.value.length})`);
    }
    if (option.description !== undefined) {
      this.text(`${path}/description`, option.description, L.optionDescription, { plainOnly: true });
    }
  }

  confirm(path: string, confirm: unknown): void {
    if (!isRecord(confirm)) {
      this.report(path, 'must be an object');
      return;
    }
    this.text(`${path}/title`, confirm.title, L.confirmTitle, { plainOnly: true });
    this.text(`${path}/text`, confirm.text, L.confirmText);
    this.text(`${path}/confirm`, confirm.confirm, L.confirmButton, { plainOnly: true });
    this.text(`${path}/deny`, confirm.deny, L.confirmButton, { plainOnly: true });
  }

  view(payload: Json): void {
    const expectedType = this.surface === 'modal' ? 'modal' : 'home';
    if (payload.type !== expectedType) {
      this.report('/type', `must be ${JSON.stringify(expectedType)} (got ${JSON.stringify(payload.type)})`);
    }
    if (!Array.isArray(payload.blocks)) this.report('/blocks', 'is required');
    this.blocks('/blocks', payload.blocks, L.viewBlocks);
    this.optionalString('/private_metadata', payload.private_metadata, L.privateMetadata);
    this.optionalString('/callback_id', payload.callback_id, L.id);
    this.optionalString('/external_id', payload.external_id, L.id);
    if (this.surface !== 'modal') return;
    this.text('/title', payload.title, L.modalTitle, { plainOnly: true });
    if (payload.submit !== undefined) this.text('/submit', payload.submit, L.modalButton, { plainOnly: true });
    if (payload.close !== undefined) this.text('/close', payload.close, L.modalButton, { plainOnly: true });
    const hasInput = Array.isArray(payload.blocks) && payload.blocks.some((b) => isRecord(b) && b.type === 'input');
    if (hasInput && payload.submit === undefined) this.report('/submit', 'is required when the view has input blocks');
  }

  message(payload: Json): void {
    if (payload.text !== undefined && payload.text !== null) {
      if (typeof payload.text !== 'string') this.report('/text', 'must be a string');
      else if (payload.text.length > L.messageText) {
        this.report('/text', `must be at most ${L.messageText} characters (got ${payload.text.length})`);
      }
    }
    this.blocks('/blocks', payload.blocks, L.messageBlocks);
    if (Array.isArray(payload.attachments)) {
      payload.attachments.forEach((attachment, i) => {
        if (isRecord(attachment)) this.blocks(`/attachments/${i}/blocks`, attachment.blocks, L.messageBlocks);
      });
    }
  }
}

/**
 * Problems Slack would refuse in a message (`{text, blocks, attachments}`) or a view
 * (`{type:'modal'|'home', title, blocks, ...}`); empty when the payload is acceptable.
 */
export function checkBlockKit(kind: BlockKitSurface, payload: unknown): string[] {
  const checker = new Checker(kind);
  if (!isRecord(payload)) {
    checker.report('', 'must be an object');
    return checker.problems;
  }
  if (kind === 'message') checker.message(payload);
  else checker.view(payload);
  return checker.problems;
}

/** Options returned for an external select (block_suggestion ack): same option limits as a static select. */
export function checkOptionsResponse(payload: unknown): string[] {
  const checker = new Checker('modal');
  if (!isRecord(payload)) {
    checker.report('', 'must be an object with options or option_groups');
    return checker.problems;
  }
  if (payload.options === undefined && payload.option_groups === undefined) {
    checker.report('', 'must have options or option_groups');
    return checker.problems;
  }
  if (payload.options !== undefined && !(Array.isArray(payload.options) && payload.options.length === 0)) {
    checker.optionList('', payload.options, L.selectOptions, true);
  }
  if (payload.option_groups !== undefined) checker.staticSelect('', { option_groups: payload.option_groups });
  return checker.problems;
}
