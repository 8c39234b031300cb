/**
 * Outlook mail actions (the product brief's "send, read, and manage emails"), declared once with
 * defineAction: reading (read.ts), sending (send.ts, upload.ts) and managing
 * (manage.ts), organizing: categories, rules, Focused Inbox, MailTips, MIME (organize.ts). Every action takes an optional `mailbox` for shared or delegated mailboxes.
 */
import './read';
import './send';
import './manage';
import './organize';
