import fc from 'fast-check';
import { maskUrl } from '../../src/webhooks/config/url-mask.js';
import { PROVIDERS, WEBHOOK_TYPES, type WebhookType } from '../../src/webhooks/providers/registry.js';

const prefixesOf = (type: WebhookType) => PROVIDERS[type].publicPathPrefixes ?? [];

describe('maskUrl', () => {
  it.each<[WebhookType | undefined, string, string]>([
    // the audit's URLs: a token in the first path segment, or in a matrix parameter
    ['CUSTOM', 'http://host.example/SEGTOKEN0123456789abcdef', 'http://host.example/***'],
    ['CUSTOM', 'http://host.example/;MATRIXTOKEN77', 'http://host.example/***'],
    ['CUSTOM', 'https://hooks.example.com:8443/a/b?token=x#frag', 'https://hooks.example.com:8443/***'],
    ['CUSTOM', 'https://hooks.example.com/?token=x', 'https://hooks.example.com/***'],
    ['CUSTOM', 'https://hooks.example.com/', 'https://hooks.example.com/'],
    ['SLACK', 'https://hooks.slack.com/services/T000/B000/XXXXSECRET', 'https://hooks.slack.com/services/***'],
    ['DISCORD', 'https://discord.com/api/webhooks/123456/tok-en', 'https://discord.com/api/webhooks/***'],
    ['TEAMS', 'https://acme.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d', 'https://acme.webhook.office.com/webhookb2/***'],
    ['TEAMS', 'https://prod-1.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=S', 'https://prod-1.westus.logic.azure.com/workflows/***'],
    ['DINGTALK', 'https://oapi.dingtalk.com/robot/send?access_token=TOKEN', 'https://oapi.dingtalk.com/robot/send?***'],
    ['FEISHU', 'https://open.feishu.cn/open-apis/bot/v2/hook/0f0e-uuid', 'https://open.feishu.cn/open-apis/bot/v2/hook/***'],
    ['WECOM', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?***'],
    // off the provider's shape (an operator-added host), or no type: scheme and host only
    ['SLACK', 'https://mattermost.example.com/hooks/abc', 'https://mattermost.example.com/***'],
    ['DINGTALK', 'https://oapi.dingtalk.com/robot/sendTOKEN', 'https://oapi.dingtalk.com/***'],
    [undefined, 'https://hooks.slack.com/services/T/B/X', 'https://hooks.slack.com/***'],
    // the old rule's masks, masked again
    ['CUSTOM', 'http://host.example/SEGTOKEN0123456789abcdef/***', 'http://host.example/***'],
    ['SLACK', 'https://hooks.slack.com/services/***', 'https://hooks.slack.com/services/***'],
    ['CUSTOM', 'not a url', '***'],
    ['CUSTOM', 'file:///etc/passwd', '***'],
  ])('%s %s → %s', (type, url, masked) => {
    expect(maskUrl(url, type)).toBe(masked);
  });

  it('keeps nothing but scheme, host and a fixed prefix of any URL, and masking again changes nothing', () => {
    const type = fc.option(fc.constantFrom(...WEBHOOK_TYPES), { nil: undefined });
    // paths that follow a provider's prefix half the time
    const url = fc
      .tuple(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.option(fc.constantFrom(...WEBHOOK_TYPES.flatMap(prefixesOf)), { nil: undefined }))
      .map(([raw, prefix]) => {
        if (!prefix) return raw;
        const u = new URL(raw);
        return `${u.origin}${prefix}${u.pathname.slice(1)}${u.search}${u.hash}`;
      });
    fc.assert(
      fc.property(url, type, (raw, t) => {
        const masked = maskUrl(raw, t);
        const u = new URL(raw);
        const kept = masked.slice(`${u.protocol}//${u.host}`.length);
        expect(masked.startsWith(`${u.protocol}//${u.host}`)).toBe(true);
        const allowed = ['/', '/***', ...(t ? prefixesOf(t) : []).flatMap((p) => [p, `${p}***`, `${p}?***`])];
        expect(allowed).toContain(kept);
        expect(maskUrl(masked, t)).toBe(masked);
      }),
      { numRuns: 500, seed: 17 },
    );
  });
});
