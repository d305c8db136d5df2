import { describe, expect, it } from '@jest/globals';
import { isIpAddress, isLocalhostName, nonPublicRange } from '../../domain/network-address';

describe('nonPublicRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.20', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.251', 'multicast'],
    ['192.0.2.10', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['fec0::1', 'siteLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['::7f00:1', 'ipv4Compatible'],
  ])('counts %s as %s', (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
  });

  it('judges IPv6 forms that carry an IPv4 address by that address', () => {
    expect(nonPublicRange('::ffff:127.0.0.1')).toBe('loopback');
    expect(nonPublicRange('::ffff:a9fe:a9fe')).toBe('linkLocal');
    expect(nonPublicRange('64:ff9b::a00:5')).toBe('private');
    expect(nonPublicRange('::ffff:8.8.8.8')).toBeNull();
    expect(nonPublicRange('64:ff9b::808:808')).toBeNull();
  });

  it.each(['8.8.8.8', '93.184.215.14', '172.32.0.1', '172.15.255.255', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e'])(
    'lets the public address %s through',
    (address) => {
      expect(nonPublicRange(address)).toBeNull();
    },
  );

  it('refuses what is not an address at all', () => {
    expect(nonPublicRange('hooks.example.com')).toBe('invalid');
    expect(nonPublicRange('')).toBe('invalid');
  });
});

describe('isIpAddress and isLocalhostName', () => {
  it('tells IP literals from names', () => {
    expect(isIpAddress('10.0.0.5')).toBe(true);
    expect(isIpAddress('::1')).toBe(true);
    expect(isIpAddress('hooks.example.com')).toBe(false);
    expect(isIpAddress('10.0.0')).toBe(false);
  });

  it('knows the names that always mean this machine', () => {
    expect(isLocalhostName('localhost')).toBe(true);
    expect(isLocalhostName('LocalHost.')).toBe(true);
    expect(isLocalhostName('api.localhost')).toBe(true);
    expect(isLocalhostName('localhost.example.com')).toBe(false);
    expect(isLocalhostName('notlocalhost')).toBe(false);
  });
});
