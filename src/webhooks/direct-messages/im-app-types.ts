import { IM_APP_TYPES, type ImAppType, type ImAppTypeInfo } from '../../contract/im-apps.js';

/** The IM app types are the API's (contract/im-apps.ts). */
export { IM_APP_TYPES, type ImAppType };

interface Credential {
  name: string;
  description: string;
  /** The value's shape: a message when refused. */
  check(value: string): string | undefined;
}

const text = (name: string, description: string, max = 300): Credential => ({
  name,
  description,
  check: (value) => (value.length >= 1 && value.length <= max && !/[\s\0]/.test(value) ? undefined : `must be 1 to ${max} characters without spaces`),
});

/**
 * What each vendor's API needs (their consoles' names for the values), where it is, and the hosts
 * its API answers on (an API base elsewhere must be allowed like a webhook URL: WEBHOOK_EXTRA_HOSTS).
 */
export interface ImAppKind extends ImAppTypeInfo {
  credentials: Credential[];
  hosts: readonly string[];
}

const KINDS: Record<ImAppType, ImAppKind> = {
  SLACK: {
    type: 'SLACK',
    displayName: 'Slack',
    credentials: [{ ...text('botToken', 'the bot user OAuth token (xoxb-…)'), check: (v) => (/^xoxb-[A-Za-z0-9-]{10,250}$/.test(v) ? undefined : 'must be a bot token: xoxb- and 10 to 250 letters, digits or -') }],
    defaultApiBase: 'https://slack.com',
    hosts: ['slack.com', 'slack-gov.com'],
    finds: 'the Slack member id a user set; else users.lookupByEmail',
  },
  FEISHU: {
    type: 'FEISHU',
    displayName: 'Feishu',
    credentials: [text('appId', 'the app ID (cli_…)', 100), text('appSecret', 'the app secret')],
    defaultApiBase: 'https://open.feishu.cn',
    hosts: ['open.feishu.cn'],
    finds: 'contact/v3/users/batch_get_id by email',
  },
  LARK: {
    type: 'LARK',
    displayName: 'Lark',
    credentials: [text('appId', 'the app ID (cli_…)', 100), text('appSecret', 'the app secret')],
    defaultApiBase: 'https://open.larksuite.com',
    hosts: ['open.larksuite.com'],
    finds: 'contact/v3/users/batch_get_id by email',
  },
  WECOM: {
    type: 'WECOM',
    displayName: 'WeCom',
    credentials: [
      text('corpId', 'the corporation ID (企业ID)', 100),
      { ...text('agentId', 'the app’s AgentId'), check: (v) => (/^[0-9]{1,12}$/.test(v) ? undefined : 'must be the AgentId: 1 to 12 digits') },
      text('secret', 'the app’s Secret'),
    ],
    defaultApiBase: 'https://qyapi.weixin.qq.com',
    hosts: ['qyapi.weixin.qq.com'],
    finds: 'the WeCom userid a user set; else user/get_userid_by_email',
  },
  DINGTALK: {
    type: 'DINGTALK',
    displayName: 'DingTalk',
    credentials: [text('clientId', 'the app’s Client ID (AppKey)', 100), text('clientSecret', 'the app’s Client Secret (AppSecret)'), text('robotCode', 'the app robot’s RobotCode', 100)],
    defaultApiBase: 'https://api.dingtalk.com',
    hosts: ['api.dingtalk.com', 'oapi.dingtalk.com'],
    finds: 'topapi/v2/user/getbymobile by the phone a user set (no phone: no DM)',
  },
  TEAMS: {
    type: 'TEAMS',
    displayName: 'Microsoft Teams',
    credentials: [text('tenantId', 'the Microsoft Entra tenant ID', 100), text('clientId', 'the app registration’s Application (client) ID', 100), text('clientSecret', 'a client secret of the app registration')],
    defaultApiBase: 'https://graph.microsoft.com',
    hosts: ['graph.microsoft.com', 'login.microsoftonline.com', 'smba.trafficmanager.net'],
    finds: 'Microsoft Graph users/{email}',
  },
};

export function imAppKind(type: ImAppType): ImAppKind {
  return KINDS[type];
}

export const isImAppType = (type: string): type is ImAppType => (IM_APP_TYPES as readonly string[]).includes(type);

/** `GET /api/im-app-types`. */
export function imAppTypeInfos(): ImAppTypeInfo[] {
  return IM_APP_TYPES.map((type) => {
    const { credentials, hosts: _hosts, ...info } = KINDS[type];
    return { ...info, credentials: credentials.map(({ name, description }) => ({ name, description })) };
  });
}
