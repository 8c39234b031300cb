/**
 * Text that travels in an HTTP header (an eTag sent as If-Match): visible ASCII and spaces only.
 * CR/LF would split the header; other characters cannot be sent at all (fetch throws, which once
 * looked like a network failure and was retried for ~45 s).
 */
export const HEADER_SAFE = /^[\x20-\x7e]*$/;
