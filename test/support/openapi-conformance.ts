import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, object> };
}

/**
 * Checks real answers against the OpenAPI document: the route and status are
 * documented, the content type is one the document names, and a JSON body validates
 * against the documented schema (Ajv, JSON Schema 2020-12, as OpenAPI 3.1 uses).
 */
export class OpenApiConformance {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly templates: { method: string; template: string; pattern: RegExp; literal: number }[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  readonly checked = new Set<string>();

  constructor(readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema(this.rewriteRefs({ $id: 'herald', components: document.components ?? {} }));
    for (const [template, item] of Object.entries(document.paths)) {
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      const literal = template.replace(/\{[^}]+\}/g, '').length;
      for (const method of Object.keys(item)) this.templates.push({ method: method.toUpperCase(), template, pattern, literal });
    }
  }

  /** The documented route a request went to, e.g. GET /api/issues/{issueId}. */
  routeOf(method: string, path: string): string | undefined {
    const bare = path.split('?')[0];
    const found = this.templates.filter((t) => t.method === method.toUpperCase() && t.pattern.test(bare)).sort((a, b) => b.literal - a.literal)[0];
    return found ? `${found.method} ${found.template}` : undefined;
  }

  /** What is wrong with this answer, if anything (an empty list when it conforms). */
  check(method: string, path: string, status: number, contentType: string | undefined, body: unknown): string[] {
    const route = this.routeOf(method, path);
    const where = `${method.toUpperCase()} ${path} → ${status}`;
    if (!route) return [`${where}: the route is not in the document`];
    const [, template] = route.split(' ');
    const operation = this.document.paths[template][method.toLowerCase()];
    const response = operation.responses[String(status)] ?? operation.responses.default;
    if (!response) return [`${where}: status ${status} is not documented for ${route}`];
    this.checked.add(`${route} ${status}`);
    const content = response.content;
    const empty = body === undefined || body === '' || (typeof body === 'object' && body !== null && Object.keys(body).length === 0 && status === 204);
    if (!content) return empty ? [] : [`${where}: a body was sent where none is documented`];
    const type = (contentType ?? '').split(';')[0].trim();
    const media = content[type];
    if (!media) return [`${where}: content type "${type}" is not one of ${Object.keys(content).join(', ')}`];
    if (!type.endsWith('json') || !media.schema) return [];
    const validate = this.validator(`${route} ${status} ${type}`, media.schema);
    return validate(body) ? [] : [`${where}: ${this.ajv.errorsText(validate.errors, { dataVar: 'body' })}`];
  }

  private validator(key: string, schema: object): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(this.rewriteRefs(schema) as object);
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** Component references point into the registered document schema. */
  private rewriteRefs(schema: object): object {
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"herald#/components/')) as object;
  }
}
