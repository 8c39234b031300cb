/**
 * OneDrive's QuickXorHash (the `file.hashes.quickXorHash` of business drives), computed
 * incrementally so uploads are hashed as their fragments arrive, never re-read.
 * Algorithm: https://learn.microsoft.com/onedrive/developer/code-snippets/quickxorhash
 *
 * Every input byte i is XORed into a 160-bit register at bit (11 * i) mod 160, wrapping around;
 * the byte count (64-bit little-endian) is XORed into the last 8 bytes. Bytes whose index is equal
 * modulo 160 land on the same bits, so the hot loop only XORs each byte into one of 160 slots and
 * `digest()` places the slots once.
 */
const WIDTH_BITS = 160;
const SHIFT = 11;

export class QuickXorHash {
  private readonly slots = new Uint8Array(WIDTH_BITS);
  private length = 0;

  update(data: Uint8Array): this {
    const slots = this.slots;
    let phase = this.length % WIDTH_BITS;
    for (let i = 0; i < data.length; i++) {
      slots[phase] = (slots[phase] as number) ^ (data[i] as number);
      if (++phase === WIDTH_BITS) phase = 0;
    }
    this.length += data.length;
    return this;
  }

  /** An independent copy (an upload fragment is hashed on a copy until it is accepted). */
  copy(): QuickXorHash {
    const clone = new QuickXorHash();
    clone.slots.set(this.slots);
    clone.length = this.length;
    return clone;
  }

  digest(): string {
    const register = new Uint8Array(WIDTH_BITS / 8);
    for (let slot = 0; slot < WIDTH_BITS; slot++) {
      const value = this.slots[slot] as number;
      if (value === 0) continue;
      const start = (slot * SHIFT) % WIDTH_BITS;
      for (let bit = 0; bit < 8; bit++) {
        if (((value >> bit) & 1) === 0) continue;
        const p = (start + bit) % WIDTH_BITS;
        register[p >> 3] = (register[p >> 3] as number) ^ (1 << (p & 7));
      }
    }
    let length = BigInt(this.length);
    for (let i = 0; i < 8; i++) {
      const at = WIDTH_BITS / 8 - 8 + i;
      register[at] = (register[at] as number) ^ Number(length & 0xffn);
      length >>= 8n;
    }
    return Buffer.from(register).toString('base64');
  }
}
