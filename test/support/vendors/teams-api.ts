import { ImEmulator, type ApiCall } from './im-emulator.js';

/**
 * Microsoft's services as their docs describe them, on one server: the identity platform's
 * client-credentials token (POST /{tenant}/oauth2/v2.0/token, form-encoded; 401 invalid_client),
 * one token per scope (Graph's, the Bot Framework's); Graph's users/{id}/teamwork/installedApps
 * ($expand teamsApp, $filter on teamsApp/externalId: the installations; a $expand of anything else
 * is a 400, as Graph answers for a property it does not have), users/{id}/teamwork/installedApps/
 * {installation}/chat (the chat's id); 404 Request_ResourceNotFound for nobody; 401
 * InvalidAuthenticationToken for an expired token; the Bot Framework connector's
 * v3/conversations/{id}/activities (201; 401 for a bad token; 429 Retry-After).
 */
export class TeamsApi extends ImEmulator {
  readonly dms: { chatId: string; activity: any }[] = [];
  readonly tokens = new Map<string, { scope: string; valid: boolean }>();
  private issued = 0;

  constructor(
    readonly tenantId: string,
    readonly clientId: string,
    readonly clientSecret: string,
    /** email -> the chat with the app (installed for them) */
    readonly chats: Record<string, string>,
  ) {
    super({
      [`POST /${tenantId}/oauth2/v2.0/token`]: (call) => {
        const form = new URLSearchParams(call.body);
        if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret || form.get('grant_type') !== 'client_credentials') {
          return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } };
        }
        const scope = form.get('scope') ?? '';
        if (!['https://graph.microsoft.com/.default', 'https://api.botframework.com/.default'].includes(scope)) return { status: 400, body: { error: 'invalid_scope' } };
        const token = `eyJ.teams-token-${++this.issued}`;
        this.tokens.set(token, { scope, valid: true });
        return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token } };
      },
    });
  }

  /** Graph's and the connector's paths carry ids: matched here rather than by the route table. */
  protected override routeOf(call: ApiCall) {
    const installed = /^\/v1\.0\/users\/([^/]+)\/teamwork\/installedApps$/.exec(call.path);
    if (call.method === 'GET' && installed) {
      if (!this.valid(call, 'https://graph.microsoft.com/.default')) return { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired or is not yet valid.' } } };
      const email = decodeURIComponent(installed[1]);
      if (!(email in this.chats) && !email.endsWith('@example.com')) return { status: 404, body: { error: { code: 'Request_ResourceNotFound', message: `Resource '${email}' does not exist.` } } };
      const expand = call.query.get('$expand');
      if (expand !== null && expand !== 'teamsApp' && expand !== 'teamsAppDefinition') return { status: 400, body: { error: { code: 'BadRequest', message: `Could not find a property named '${expand.replace(/^teamsApp,?/, '')}' on type 'microsoft.graph.userScopeTeamsAppInstallation'.` } } };
      const filter = call.query.get('$filter') ?? '';
      const value = this.chats[email] && filter === `teamsApp/externalId eq '${this.clientId}'` ? [{ id: this.installationOf(email), ...(expand === 'teamsApp' ? { teamsApp: { externalId: this.clientId } } : {}) }] : [];
      return { status: 200, body: { value } };
    }
    const chatOf = /^\/v1\.0\/users\/([^/]+)\/teamwork\/installedApps\/([^/]+)\/chat$/.exec(call.path);
    if (call.method === 'GET' && chatOf) {
      if (!this.valid(call, 'https://graph.microsoft.com/.default')) return { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired or is not yet valid.' } } };
      const email = decodeURIComponent(chatOf[1]);
      const chat = this.chats[email];
      if (!chat || decodeURIComponent(chatOf[2]) !== this.installationOf(email)) return { status: 404, body: { error: { code: 'NotFound', message: 'The installation was not found.' } } };
      return { status: 200, body: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#chats/$entity', id: chat, chatType: 'oneOnOne' } };
    }
    const activities = /^\/v3\/conversations\/([^/]+)\/activities$/.exec(call.path);
    if (call.method === 'POST' && activities) {
      if (!this.valid(call, 'https://api.botframework.com/.default')) return { status: 401, body: { message: 'Authorization has been denied for this request.' } };
      const chatId = decodeURIComponent(activities[1]);
      if (!Object.values(this.chats).includes(chatId)) return { status: 404, body: { error: { code: 'ConversationNotFound', message: 'Conversation not found.' } } };
      this.dms.push({ chatId, activity: call.json });
      return { status: 201, body: { id: `a${this.dms.length}` } };
    }
    return undefined;
  }

  /** An installation's id (Graph's are base64 of the app and the user; any opaque string will do). */
  private installationOf(email: string): string {
    return Buffer.from(`${this.clientId}##${email}`).toString('base64');
  }

  expireTokens(): void {
    for (const token of this.tokens.values()) token.valid = false;
  }

  private valid(call: ApiCall, scope: string): boolean {
    const token = this.tokens.get(/^Bearer (.+)$/.exec(call.headers.authorization ?? '')?.[1] ?? '');
    return token !== undefined && token.valid && token.scope === scope;
  }
}
