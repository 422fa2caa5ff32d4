import {
  AddressPolicy,
  isIpLiteral,
  parseCidrList,
  parseHostAsIp,
} from '../../../src/webhooks/http/address-policy.js';

const strict = new AddressPolicy([]);

function reasonOf(policy: AddressPolicy, ip: string): string {
  const verdict = policy.check(ip);
  if (verdict.allowed) throw new Error(`${ip} was allowed`);
  return verdict.reason;
}

describe('AddressPolicy: refused by default', () => {
  it.each([
    // loopback
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    // private
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    // carrier-grade NAT
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    // link-local
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    // unique-local
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    // unspecified, 0/8, broadcast
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['0.1.2.3', '0.0.0.0/8'],
    ['255.255.255.255', 'broadcast'],
    // multicast
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['ff05::2', 'multicast'],
    // documentation
    ['192.0.2.10', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.200', 'documentation'],
    ['2001:db8::1', 'documentation'],
    // benchmarking, reserved, IETF protocol assignments
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.254', 'benchmarking'],
    ['240.0.0.1', 'reserved'],
    ['254.1.2.3', 'reserved'],
    ['192.0.0.8', 'IETF protocol assignments'],
  ])('%s (%s)', (ip, rule) => {
    expect(reasonOf(strict, ip)).toContain(rule);
  });

  it.each([
    // odd spellings of 127.0.0.1
    ['2130706433', 'decimal'],
    ['0177.0.0.1', 'octal'],
    ['0x7f.1', 'hex, short'],
    ['0x7f000001', 'hex'],
    ['127.1', 'short'],
    ['0177.1', 'octal, short'],
    ['127.0.0.1.', 'trailing dot'],
  ])('loopback spelled %s (%s)', (ip) => {
    expect(reasonOf(strict, ip)).toContain('loopback (127.0.0.0/8)');
  });

  it('bracketed IPv6 loopback', () => {
    expect(reasonOf(strict, '[::1]')).toContain('loopback (::1/128)');
  });

  it.each([
    ['::ffff:127.0.0.1', 'IPv4-mapped', 'loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped', 'loopback'],
    ['[::ffff:7f00:1]', 'IPv4-mapped', 'loopback'],
    ['::ffff:10.0.0.1', 'IPv4-mapped', 'private'],
    ['::ffff:192.168.0.1', 'IPv4-mapped', 'private'],
    ['::ffff:0:7f00:1', 'IPv4-translated', 'loopback'],
    ['::127.0.0.1', 'IPv4-compatible', 'loopback'],
    ['::a00:1', 'IPv4-compatible', 'private'],
    ['64:ff9b::127.0.0.1', 'NAT64', 'loopback'],
    ['64:ff9b::a9fe:101', 'NAT64', 'link-local'],
    ['64:ff9b::c0a8:1', 'NAT64', 'private'],
    ['64:ff9b:1::7f00:1', 'NAT64 (local-use)', 'loopback'],
    ['64:ff9b:1:7f00:0:100::', 'NAT64 (local-use)', 'loopback'], // the /48 layout of RFC 6052
    ['2002:7f00:1::', '6to4', 'loopback'],
    ['2002:a00:1::1', '6to4', 'private'],
    ['2002:c0a8:101:1::1', '6to4', 'private'],
  ])('%s: %s form of a %s address', (ip, form, rule) => {
    const reason = reasonOf(strict, ip);
    expect(reason).toContain(form);
    expect(reason).toContain(rule);
  });
});

describe('AddressPolicy: cloud metadata', () => {
  const everything = new AddressPolicy(['0.0.0.0/0', '::/0']);

  it.each([
    '169.254.169.254',
    '100.100.100.200',
    'fd00:ec2::254',
    '169.254.170.2',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:100.100.100.200',
    '64:ff9b::169.254.169.254',
    '2002:a9fe:a9fe::',
    '0xa9fea9fe',
    '2852039166',
  ])('%s is refused even with 0.0.0.0/0 and ::/0 allowed', (ip) => {
    expect(reasonOf(everything, ip)).toContain('cloud metadata');
  });

  it('stays refused when the link-local or unique-local ranges are allowed', () => {
    const policy = new AddressPolicy(['169.254.0.0/16', 'fc00::/7', '100.64.0.0/10', '100.100.100.200/32']);
    expect(reasonOf(policy, '169.254.169.254')).toContain('cloud metadata');
    expect(reasonOf(policy, 'fd00:ec2::254')).toContain('cloud metadata');
    expect(reasonOf(policy, '100.100.100.200')).toContain('cloud metadata');
    expect(policy.check('169.254.1.1')).toEqual({ allowed: true });
    expect(policy.check('fd00::1')).toEqual({ allowed: true });
  });
});

describe('AddressPolicy: allowed', () => {
  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808', '64:ff9b:1::808:808', '2002:808:808::1', '172.32.0.1', '100.128.0.1', '11.0.0.1'])(
    'public address %s',
    (ip) => {
      expect(strict.check(ip)).toEqual({ allowed: true });
    },
  );

  it('allows what an operator range covers, and only that', () => {
    const policy = new AddressPolicy(['127.0.0.0/8', '::1/128', '10.1.0.0/16']);
    for (const ip of ['127.0.0.1', '127.1', '2130706433', '::1', '::ffff:127.0.0.1', '10.1.2.3']) {
      expect(policy.check(ip)).toEqual({ allowed: true });
    }
    expect(reasonOf(policy, '10.2.0.1')).toContain('private');
    expect(reasonOf(policy, '192.168.0.1')).toContain('private');
    expect(reasonOf(policy, 'fe80::1')).toContain('link-local');
  });

  it('does not let an IPv4 range allow IPv6 loopback', () => {
    expect(reasonOf(new AddressPolicy(['0.0.0.0/0']), '::1')).toContain('loopback');
    expect(reasonOf(new AddressPolicy(['::/0']), '127.0.0.1')).toContain('loopback');
  });

  it('refuses what is not an IP address', () => {
    expect(reasonOf(strict, 'example.com')).toContain('not an IP address');
    expect(reasonOf(strict, '')).toContain('not an IP address');
  });

  it('rejects a bad allowed range at construction', () => {
    expect(() => new AddressPolicy(['10.0.0.0/33'])).toThrow('10.0.0.0/33');
  });
});

describe('parseHostAsIp and isIpLiteral', () => {
  it.each([
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0X7F.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['%31%32%37.0.0.1', '127.0.0.1'],
    ['8.8.8.8', '8.8.8.8'],
    ['[::1]', '::1'],
    ['[::FFFF:127.0.0.1]', '::ffff:7f00:1'],
    ['::127.0.0.1', '::7f00:1'],
    ['64:ff9b::8.8.8.8', '64:ff9b::808:808'],
    ['2606:4700:4700::1111', '2606:4700:4700::1111'],
  ])('%s is %s', (host, ip) => {
    expect(parseHostAsIp(host)).toBe(ip);
    expect(isIpLiteral(host)).toBe(true);
  });

  it.each(['example.com', 'localhost', '127.0.0.1.example', '1.2.3.4.5', '256.0.0.1', '08.0.0.1', '0x.foo', '4294967296', '[not::valid::]', '::1.2.3.256', '::01.2.3.4', ''])(
    '%s is not an IP address',
    (host) => {
      expect(parseHostAsIp(host)).toBeNull();
      expect(isIpLiteral(host)).toBe(false);
    },
  );

  it('agrees with what the WHATWG URL parser makes of the odd spellings', () => {
    for (const host of ['2130706433', '0177.0.0.1', '0x7f.1', '127.1', '0x7f000001', '[::ffff:127.0.0.1]']) {
      const normalized = new URL(`http://${host}/`).hostname;
      expect(parseHostAsIp(normalized)).toBe(parseHostAsIp(host));
    }
    // Node normalizes them for http(s) URLs already:
    expect(new URL('http://2130706433/').hostname).toBe('127.0.0.1');
    expect(new URL('http://0x7f.1/').hostname).toBe('127.0.0.1');
    expect(new URL('http://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]');
  });
});

describe('parseCidrList', () => {
  it('parses and normalizes a comma-separated list', () => {
    expect(parseCidrList('127.0.0.0/8,::1/128')).toEqual(['127.0.0.0/8', '::1/128']);
    expect(parseCidrList(' 10.0.0.0/8 , fd00::/8 ,')).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(parseCidrList('192.168.1.7/24,10.0.0.1')).toEqual(['192.168.1.0/24', '10.0.0.1/32']);
    expect(parseCidrList('::1')).toEqual(['::1/128']);
  });

  it('is empty when unset or blank', () => {
    expect(parseCidrList(undefined)).toEqual([]);
    expect(parseCidrList('')).toEqual([]);
    expect(parseCidrList('  ')).toEqual([]);
  });

  it.each(['10.0.0.0/33', '::/129', 'localhost', '10.0.0/8', '0177.0.0.1/8', '10.0.0.0/', '10.0.0.0/8/1', 'fe80::1%eth0/64', '300.0.0.0/8'])(
    'names the bad entry %s',
    (bad) => {
      expect(() => parseCidrList(`127.0.0.0/8,${bad}`)).toThrow(`"${bad}"`);
    },
  );
});
