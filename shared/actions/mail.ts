/**
 * Outlook mail actions (the product brief's "send, read, and manage emails"), declared once with
 * defineAction: reading (mail-read.ts), sending (mail-send.ts, mail-upload.ts) and managing
 * (mail-manage.ts). Every action takes an optional `mailbox` for shared or delegated mailboxes.
 */
import './mail-read';
import './mail-send';
import './mail-manage';
