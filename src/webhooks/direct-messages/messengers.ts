import type { ImAppType } from './im-app-types.js';
import type { DirectMessenger } from './messenger.js';
import { DINGTALK_DM } from './dingtalk-dm.js';
import { FEISHU_DM, LARK_DM } from './feishu-dm.js';
import { SLACK_DM } from './slack-dm.js';
import { TEAMS_DM } from './teams-dm.js';
import { WECOM_DM } from './wecom-dm.js';

/** Every vendor's direct messages, by IM app type (one file each, as the webhook providers). */
const MESSENGERS: Record<ImAppType, DirectMessenger> = { SLACK: SLACK_DM, FEISHU: FEISHU_DM, LARK: LARK_DM, WECOM: WECOM_DM, DINGTALK: DINGTALK_DM, TEAMS: TEAMS_DM };

export function messengerFor(type: string): DirectMessenger | undefined {
  return Object.hasOwn(MESSENGERS, type) ? MESSENGERS[type as ImAppType] : undefined;
}
