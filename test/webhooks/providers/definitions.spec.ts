import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { ACTIVITY_LEVELS, type Activity } from '../../../src/webhooks/activity.js';
import { PROVIDERS, WEBHOOK_TYPES, type WebhookType } from '../../../src/webhooks/providers/registry.js';
import { ACTIVITIES, EVERY_ACTIVITY as ALL_ACTIVITIES, EVERY_CASE as ALL_CASES, INJECTIONS, TEAMS_WORKFLOWS_URL, ctx, hook } from './activities.js';

/*
 * Every rendered body checked by the receiver's own published definitions, not by shapes written
 * here: Slack's Block Kit types (@slack/types), Discord's API types (discord-api-types), Microsoft's
 * Adaptive Cards library (adaptivecards: its parser, reading each card as version 1.4), Google's Chat
 * API types (@googleapis/chat). The bodies are every activity type × level with hostile content
 * (a 100 KB description, emoji and combining marks, markdown and mention markup everywhere). Teams'
 * legacy MessageCard has no published definition left (connectors are retired): shapes.spec checks it.
 * Type-only definitions are checked at compile time: each body becomes a `satisfies` expression
 * in a generated file that TypeScript compiles.
 */

type Json = any;

/** A published definition: the import that brings it and the type each body must satisfy. */
interface TypeDefinition {
  imports: string;
  type: string;
  /** A body the definition refuses: proves the check can fail. */
  wrong: Json;
}

const DEFINITIONS: Partial<Record<WebhookType, TypeDefinition>> = {
  GOOGLE_CHAT: {
    imports: "import type { chat_v1 } from '@googleapis/chat';",
    type: 'chat_v1.Schema$Message',
    wrong: { cardsV2: [{ card: { sections: [{ widgets: [{ decoratedText: { text: 1 } }] }] } }] },
  },
  SLACK: {
    imports: "import type { KnownBlock } from '@slack/types';",
    type: '{ text: string; blocks: KnownBlock[] }',
    wrong: { text: 'x', blocks: [{ type: 'section', text: { type: 'markdown', text: 'x' } }] },
  },
  DISCORD: {
    imports: "import type { RESTPostAPIWebhookWithTokenJSONBody } from 'discord-api-types/v10';",
    type: 'RESTPostAPIWebhookWithTokenJSONBody',
    wrong: { embeds: [{ title: 'x', color: '#ff0000' }] },
  },
};

/**
 * Types checked by a receiver's own parser rather than its types: Teams Workflows cards by
 * Microsoft's Adaptive Cards library (below). Its TypeScript interfaces describe the SDK's object
 * model, not the JSON (they require an `id` on every action), so they are not used.
 */
const PARSED_BY_LIBRARY: WebhookType[] = ['TEAMS'];

/** Types whose services publish no machine-readable definition of their webhook body (checked by shapes.spec and limits.spec). */
const NO_PUBLISHED_DEFINITION: Partial<Record<WebhookType, string>> = {
  DINGTALK: 'DingTalk documents its robot messages only in prose',
  FEISHU: 'Feishu documents its custom-bot cards only in prose',
  LARK: 'Lark documents its custom-bot cards only in prose',
  WECOM: 'WeCom documents its robot messages only in prose',
  CUSTOM: 'the seed is the contract (custom.e2e.spec checks its exact keys and types)',
};

const FAMILY = '👩‍👩‍👧‍👦';
const HOSTILE = `# Heading\n**bold** _it_ \`code\` [link](https://evil.example) ${INJECTIONS} e\u0301\u0302 审计 ${FAMILY} \u202Eevil`;
const HUGE = (HOSTILE + ' ').repeat(Math.ceil((100 * 1024) / HOSTILE.length));

function hostile(base: Activity, level: Activity['level']): Activity {
  return {
    ...base,
    level,
    title: `${base.title} ${HOSTILE}`,
    description: HUGE,
    meta: base.meta.map((m) => ({ name: m.name, value: `${m.value} ${HOSTILE}` })),
    actor: { ...base.actor, name: `${base.actor.name} ${HOSTILE}` },
  };
}

/** Every body of one type over the hostile matrix. */
function hostileBodies(type: WebhookType, urls = [hook(type).url]): Json[] {
  return ALL_CASES.flatMap((name) =>
    ACTIVITY_LEVELS.flatMap((level) => urls.map((url) => JSON.parse(PROVIDERS[type].render(hostile(ALL_ACTIVITIES[name], level), hook(type, { url }), ctx).body))),
  );
}

const folder = resolve('test-output/definitions');

/** Compiles `files` (name → source) with the project's settings; returns the diagnostics per file. */
function compile(files: Record<string, string>): Record<string, string[]> {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const paths = Object.entries(files).map(([name, source]) => {
    const path = join(folder, `${name}.ts`);
    writeFileSync(path, source);
    return path;
  });
  const program = ts.createProgram(paths, { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] });
  const byFile: Record<string, string[]> = Object.fromEntries(Object.keys(files).map((name) => [name, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const name = d.file ? d.file.fileName.split('/').pop()!.replace(/\.ts$/, '') : 'global';
    (byFile[name] ??= []).push(ts.flattenDiagnosticMessageText(d.messageText, '\n').slice(0, 300));
  }
  return byFile;
}

const source = (def: TypeDefinition, bodies: Json[]) => `${def.imports}\nexport const bodies = ${JSON.stringify(bodies)} satisfies (${def.type})[];\n`;

it('knows, for every type of the registry, its published definition or why there is none', () => {
  for (const type of WEBHOOK_TYPES) expect([type, DEFINITIONS[type] !== undefined || PARSED_BY_LIBRARY.includes(type) || NO_PUBLISHED_DEFINITION[type] !== undefined]).toEqual([type, true]);
});

describe('bodies checked by the receivers’ own type definitions (compiled)', () => {
  const types = WEBHOOK_TYPES.filter((type) => DEFINITIONS[type]);
  const files: Record<string, string> = {};
  const counts: Record<string, number> = {};
  for (const type of types) {
    const def = DEFINITIONS[type]!;
    const bodies = hostileBodies(type);
    counts[type] = bodies.length;
    files[type] = source(def, bodies);
    files[`${type}-wrong`] = source(def, [def.wrong]);
  }
  let diagnostics: Record<string, string[]> = {};
  beforeAll(() => {
    diagnostics = compile(files);
  }, 120_000);

  it.each(types)('%s: every activity type × level with hostile content satisfies the definition', (type) => {
    expect(counts[type]).toBeGreaterThanOrEqual(ALL_CASES.length * ACTIVITY_LEVELS.length);
    expect(diagnostics[type]).toEqual([]);
    expect(diagnostics.global ?? []).toEqual([]);
  });

  it.each(types)('%s: a body the definition refuses is refused (the check can fail)', (type) => {
    expect(diagnostics[`${type}-wrong`].length).toBeGreaterThan(0);
  });
});

describe('Teams Workflows cards parsed by Microsoft’s Adaptive Cards library (schema 1.4)', () => {
  // the library's browser build: its ES modules import without file extensions, which Node refuses
  const AC = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js');

  /** Every warning and error the parser reports for a card read as Adaptive Cards 1.4. */
  function problems(card: Json): string[] {
    const context = new AC.SerializationContext(new AC.Version(1, 4));
    const parsed = new AC.AdaptiveCard();
    parsed.parse(card, context);
    const found: string[] = [];
    for (let i = 0; i < context.eventCount; i++) found.push(context.getEventAt(i).message);
    for (const e of parsed.validateProperties().validationEvents) found.push(e.message);
    return found;
  }

  it('reports a card that breaks the schema (the check can fail)', () => {
    expect(problems({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'FactSett', facts: [] }, { type: 'TextBlock', text: 'x', weight: 'Heavy' }] }).length).toBe(2);
  });

  it('accepts every card over the hostile matrix, version 1.4, nothing unknown or invalid', () => {
    const bodies = hostileBodies('TEAMS', [TEAMS_WORKFLOWS_URL]);
    expect(bodies).toHaveLength(ALL_CASES.length * ACTIVITY_LEVELS.length);
    for (const body of bodies) {
      const card = body.attachments[0].content;
      expect(card.version).toBe('1.4');
      expect(problems(card)).toEqual([]);
    }
  });
});
