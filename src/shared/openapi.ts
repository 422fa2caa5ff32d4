import { applyDecorators, type INestApplication, type Type } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { ApiExtraModels, ApiHeader, ApiProperty, ApiPropertyOptional, ApiResponse, DocumentBuilder, getSchemaPath, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { routeAccess } from './route-access.js';
import { HERALD_VERSION } from '../version.js';

export class FieldErrorSchema {
  @ApiProperty({ description: 'The field, as a path into the body or query (`pipeline.stages.0.name`).', example: 'name' })
  field: string;
  @ApiProperty({ description: 'The rule it broke.', example: 'name must be longer than or equal to 1 characters' })
  message: string;
}

/** RFC 9457 problem details: every error Herald answers has this shape. */
export class ProblemSchema {
  @ApiProperty({ description: 'A stable URN naming the kind of problem.', example: 'urn:herald:problem:invalid' })
  type: string;
  @ApiProperty({ example: 'Bad Request' })
  title: string;
  @ApiProperty({ example: 400 })
  status: number;
  @ApiProperty({ description: 'What went wrong, for a person.', example: 'name: name must be longer than or equal to 1 characters' })
  detail: string;
  @ApiPropertyOptional({ type: [FieldErrorSchema], description: 'One entry per offending field (validation errors).' })
  errors?: FieldErrorSchema[];
}

const problemContent = { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemSchema) } } };

/** A documented error answer of a route, beyond the ones every route of its kind has (see completeOperations). */
export const ApiProblem = (status: number, description: string) =>
  applyDecorators(ApiExtraModels(ProblemSchema), ApiResponse({ status, description, content: problemContent }));

/** A versioned resource in the answer, with its ETag (`W/"<version>"`) for a later If-Match. */
export const ApiVersioned = (status: number, type: Type, description: string) =>
  ApiResponse({ status, type, description, headers: { ETag: { description: 'The version as a weak entity tag, `W/"<version>"`.', schema: { type: 'string' } } } });

/** Optimistic concurrency: If-Match with the ETag read earlier, else the change applies to the latest version. */
export const ApiIfMatch = () =>
  applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description: 'The ETag read earlier (`W/"<version>"`): the change applies only if nobody changed it since. Without it, or with `*` (any current version, RFC 9110), the latest version; a resource that does not exist is 404 either way.',
    }),
    ApiProblem(412, 'If-Match was given and the resource has changed since (read it again).'),
  );

/** A page of a list: `items` and the cursor of the next page (null on the last). */
export function PageSchema<T>(item: Type<T>, name: string): Type<{ items: T[]; nextCursor: string | null }> {
  class Page {
    @ApiProperty({ type: [item] })
    items: T[];
    @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' })
    nextCursor: string | null;
  }
  Object.defineProperty(Page, 'name', { value: name });
  return Page;
}

interface Operation {
  operationId?: string;
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, { description: string; content?: unknown; headers?: Record<string, unknown> }>;
  security?: Record<string, string[]>[];
  description?: string;
}

const GENERIC: Record<number, string> = {
  400: 'The request is invalid: `errors` names each field and the rule it broke. Nothing was changed.',
  401: 'No `Authorization: Bearer <token>` header, or the token is not valid (unknown or revoked).',
  413: 'The body is larger than the limit (1 MiB by default).',
  415: 'The body is not sent with exactly one `Content-Type: application/json` header (optionally `; charset=utf-8`).',
  429: 'More requests than the per-token limit allows; `Retry-After` says when to try again.',
  503:
    'Storage is unavailable (the database disk is full, the database server is down or out of connections): problem type ' +
    '`urn:herald:problem:storage-unavailable`, nothing was changed (unless `detail` says the connection was lost while committing); ' +
    '`Retry-After` says when to try again.',
};

/** What a route with a body adds to its 400 (the body policy, before any field is read). */
const BODY_400 =
  'A body that is not JSON, whose bytes are not UTF-8 (`must be valid UTF-8 (the first invalid byte is at offset 13)`), or that nests deeper than 8 levels ' +
  'names the field `body`; a string that is not well-formed Unicode or holds NUL names its field.';

/**
 * The answers every route has because of how it is guarded and what it takes, derived
 * from the same metadata the guard and the validation pipe act on, so the document
 * cannot drift from what the service does.
 */
function completeOperations(app: INestApplication, document: OpenAPIObject): void {
  const reflector = new Reflector();
  const handlers = new Map<string, [handler: (...args: unknown[]) => unknown, controller: Type]>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        if (name !== 'constructor') handlers.set(`${controller.name}_${name}`, [controller.prototype[name], controller]);
      }
    }
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, value] of Object.entries(item)) {
      const operation = value as Operation;
      const target = operation.operationId ? handlers.get(operation.operationId) : undefined;
      if (!target) throw new Error(`OpenAPI: no handler found for ${method.toUpperCase()} ${path} (${operation.operationId})`);
      const access = routeAccess(reflector, [target[0], target[1]]);
      const problem = (status: number, description: string) => {
        operation.responses[status] ??= { description, content: problemContent };
      };
      const takesInput = (operation.parameters?.length ?? 0) > 0 || operation.requestBody !== undefined;
      if (takesInput) problem(400, operation.requestBody === undefined ? GENERIC[400] : `${GENERIC[400]} ${BODY_400}`);
      if (operation.requestBody !== undefined) {
        problem(413, GENERIC[413]);
        problem(415, GENERIC[415]);
      }
      let who: string;
      if (access.public) {
        who = 'Anyone (no token).';
        operation.security = [];
      } else {
        operation.security = [{ bearer: [] }];
        problem(401, GENERIC[401]);
        if (access.adminOnly) {
          who = 'Workspace admins.';
          problem(403, 'The token is not a workspace admin’s.');
        } else if (access.project === 'owner') {
          who = 'The project’s OWNERs and workspace admins; DEVELOPERs get 403, others 404.';
          problem(403, 'The caller is a DEVELOPER of the project: this needs an OWNER.');
        } else if (access.project === 'member') {
          who = 'Members of the project (OWNER or DEVELOPER) and workspace admins; anyone else gets 404.';
        } else {
          who = 'Any user with a valid token.';
        }
      }
      if (access.project || path.includes('{')) {
        problem(404, access.project ? 'Not found, or the caller is not a member of the project (the same answer, on purpose).' : 'Not found.');
      }
      if (!path.startsWith('/health/')) problem(429, GENERIC[429]);
      // every guarded route reads the database (the token), most write it
      if (!access.public) {
        operation.responses[503] ??= { description: GENERIC[503], content: problemContent, headers: { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } } };
      }
      operation.description = [operation.description, `**Who may call:** ${who}`].filter(Boolean).join('\n\n');
      for (const response of Object.values(operation.responses)) {
        response.headers = { ...response.headers, 'x-request-id': { description: 'The request’s id (the caller’s `x-request-id` when sane, else a new one): also the correlation id of the events it appended.', schema: { type: 'string' } } };
      }
    }
  }
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Herald')
    .setDescription(
      'Issue workflows (projects, issues, pipeline stages and tasks, comments) as an event-sourced domain, and project webhooks to Slack, Discord, Microsoft Teams, DingTalk, Feishu, WeCom and custom endpoints.\n\n' +
        'Every error is `application/problem+json`. Tokens go in `Authorization: Bearer <token>`.',
    )
    .setVersion(HERALD_VERSION)
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API token (`hrld_...`), or the admin token printed at the first start.' }, 'bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ProblemSchema] });
  completeOperations(app, document);
  return document;
}

/** The document at /docs-json and its UI at /docs (assets served by Herald itself: no CDN). */
export function serveOpenApi(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', raw: ['json'], customSiteTitle: 'Herald API' });
}
