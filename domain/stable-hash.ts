/**
 * A number in [0, 1) that depends only on `key`: the same enrollment always lands in the same
 * A/B cohort and at the same minute of a send window, in every process and on every replay.
 *
 * FNV-1a over the UTF-16 code units, then the murmur3 finaliser so that keys differing only in
 * their last characters (uuids of one batch) still spread evenly over the whole range.
 */
export function stableFraction(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index += 1) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}
