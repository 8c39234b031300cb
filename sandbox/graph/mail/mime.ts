/**
 * A message's MIME source (https://learn.microsoft.com/graph/outlook-get-mime-message):
 * `GET /me/messages/{id}/$value` answers the message as RFC 5322 text: its internet headers, the
 * body (text or HTML, quoted-printable free: UTF-8 in base64), and attachments as base64 parts of
 * a multipart/mixed message. Drafts have no Date header until sent.
 */
import type { Sandbox } from '../../context';
import { mailState, str, type AttachmentMeta, type Recipient } from './model';
import { graphTimestamp, type Entity } from '../store';

function encodeWord(text: string): string {
  // RFC 2047 encoded-word for anything outside printable ASCII.
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

function address(r: Recipient): string {
  const name =
    r.emailAddress.name && r.emailAddress.name !== r.emailAddress.address ? r.emailAddress.name : '';
  return name
    ? `${encodeWord(`"${name.replace(/"/g, "'")}"`)} <${r.emailAddress.address}>`
    : r.emailAddress.address;
}

function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

export function messageMime(sandbox: Sandbox, m: Entity, attachments: AttachmentMeta[]): Buffer {
  const list = (v: unknown) => ((v ?? []) as Recipient[]).map(address).join(', ');
  const headers: Array<[string, string]> = [];
  if (m.from) headers.push(['From', address(m.from as Recipient)]);
  if (((m.toRecipients ?? []) as Recipient[]).length) headers.push(['To', list(m.toRecipients)]);
  if (((m.ccRecipients ?? []) as Recipient[]).length) headers.push(['Cc', list(m.ccRecipients)]);
  headers.push(['Subject', encodeWord(str(m.subject))]);
  if (m.isDraft !== true) {
    const sent = Date.parse(str(m.sentDateTime, graphTimestamp(sandbox.now())));
    headers.push(['Date', new Date(sent).toUTCString().replace('GMT', '+0000')]);
  }
  if (m.internetMessageId) headers.push(['Message-ID', str(m.internetMessageId)]);
  for (const h of (m.internetMessageHeaders ?? []) as Array<{ name: string; value: string }>) {
    if (!headers.some(([name]) => name.toLowerCase() === h.name.toLowerCase()))
      headers.push([h.name, h.value]);
  }
  headers.push(['MIME-Version', '1.0']);
  const body = (m.body ?? {}) as { contentType?: string; content?: string };
  const bodyPart = [
    `Content-Type: ${body.contentType === 'html' ? 'text/html' : 'text/plain'}; charset="utf-8"`,
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(Buffer.from(str(body.content), 'utf8')),
  ].join('\r\n');
  let content: string;
  if (attachments.length === 0) content = bodyPart;
  else {
    const boundary = `_sandbox_${str(m.id)
      .slice(-12)
      .replace(/[^A-Za-z0-9]/g, 'x')}_`;
    const blobs = mailState(sandbox).blobs;
    const parts = [
      bodyPart,
      ...attachments.map((a) =>
        [
          `Content-Type: ${a.contentType}; name="${encodeWord(a.name)}"`,
          `Content-Disposition: ${a.isInline ? 'inline' : 'attachment'}; filename="${encodeWord(a.name)}"`,
          ...(a.contentId ? [`Content-ID: <${a.contentId}>`] : []),
          'Content-Transfer-Encoding: base64',
          '',
          base64Lines(blobs.get(a.blob) ?? Buffer.alloc(0)),
        ].join('\r\n'),
      ),
    ];
    content = [
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      ...parts.map((p) => `--${boundary}\r\n${p}`),
      `--${boundary}--`,
      '',
    ].join('\r\n');
  }
  const head = headers.map(([name, value]) => `${name}: ${value}`).join('\r\n');
  return Buffer.from(`${head}\r\n${content}\r\n`, 'utf8');
}
