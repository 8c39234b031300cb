/**
 * Contacts: our output shape (mapped field by field from Graph's contact, reference §8.5), the
 * input fields shared by create and update, and the merge that keeps a PATCH from dropping
 * addresses: Graph replaces `emailAddresses` and the phone lists whole on PATCH (contact-update),
 * so a change to one entry is applied to the current list first and the whole list is sent.
 */
import { z } from 'zod';
import { Problem } from '../../http/problem';

/** Outlook keeps at most three email addresses per contact (reference §8.5). */
export const MAX_EMAILS = 3;

const str = z.string().nullable().optional();
const GraphEmail = z.object({ name: str, address: str }).passthrough();
const GraphAddress = z
  .object({ street: str, city: str, state: str, countryOrRegion: str, postalCode: str })
  .partial()
  .passthrough();
export const GraphContact = z
  .object({
    id: z.string(),
    parentFolderId: str,
    displayName: str,
    givenName: str,
    middleName: str,
    surname: str,
    nickName: str,
    companyName: str,
    jobTitle: str,
    department: str,
    officeLocation: str,
    emailAddresses: z.array(GraphEmail).nullable().optional(),
    businessPhones: z.array(z.string()).nullable().optional(),
    homePhones: z.array(z.string()).nullable().optional(),
    mobilePhone: str,
    businessAddress: GraphAddress.nullable().optional(),
    homeAddress: GraphAddress.nullable().optional(),
    birthday: str,
    personalNotes: str,
    categories: z.array(z.string()).nullable().optional(),
    createdDateTime: str,
    lastModifiedDateTime: str,
  })
  .passthrough();
export type GraphContact = z.output<typeof GraphContact>;

/** The Graph properties our contact shape reads ($select for lists and gets). */
export const CONTACT_SELECT = [
  'id',
  'parentFolderId',
  'displayName',
  'givenName',
  'middleName',
  'surname',
  'nickName',
  'companyName',
  'jobTitle',
  'department',
  'officeLocation',
  'emailAddresses',
  'businessPhones',
  'homePhones',
  'mobilePhone',
  'businessAddress',
  'homeAddress',
  'birthday',
  'personalNotes',
  'categories',
  'createdDateTime',
  'lastModifiedDateTime',
].join(',');

const PostalAddressOut = z.object({
  street: z.string().nullable(),
  city: z.string().nullable(),
  state: z.string().nullable(),
  countryOrRegion: z.string().nullable(),
  postalCode: z.string().nullable(),
});
export type PostalAddress = z.infer<typeof PostalAddressOut>;

/** A contact as the actions return it. */
export const ContactOut = z.object({
  id: z.string(),
  folderId: z.string().nullable().describe('The contact folder holding it.'),
  displayName: z.string().nullable(),
  givenName: z.string().nullable(),
  middleName: z.string().nullable(),
  surname: z.string().nullable(),
  nickName: z.string().nullable(),
  companyName: z.string().nullable(),
  jobTitle: z.string().nullable(),
  department: z.string().nullable(),
  officeLocation: z.string().nullable(),
  emails: z.array(z.object({ address: z.string(), name: z.string().nullable() })).describe('At most 3.'),
  businessPhones: z.array(z.string()),
  homePhones: z.array(z.string()),
  mobilePhone: z.string().nullable(),
  businessAddress: PostalAddressOut.nullable(),
  homeAddress: PostalAddressOut.nullable(),
  birthday: z.string().nullable().describe('YYYY-MM-DD.'),
  notes: z.string().nullable(),
  categories: z.array(z.string()),
  createdAt: z.string().nullable(),
  lastModifiedAt: z.string().nullable(),
});
export type Contact = z.infer<typeof ContactOut>;

function address(a: z.output<typeof GraphAddress> | null | undefined): PostalAddress | null {
  if (!a) return null;
  const out: PostalAddress = {
    street: a.street ?? null,
    city: a.city ?? null,
    state: a.state ?? null,
    countryOrRegion: a.countryOrRegion ?? null,
    postalCode: a.postalCode ?? null,
  };
  return Object.values(out).some((v) => v) ? out : null;
}

export function toContact(raw: unknown): Contact {
  const c = GraphContact.parse(raw);
  return {
    id: c.id,
    folderId: c.parentFolderId ?? null,
    displayName: c.displayName ?? null,
    givenName: c.givenName ?? null,
    middleName: c.middleName || null,
    surname: c.surname ?? null,
    nickName: c.nickName ?? null,
    companyName: c.companyName ?? null,
    jobTitle: c.jobTitle ?? null,
    department: c.department ?? null,
    officeLocation: c.officeLocation ?? null,
    emails: (c.emailAddresses ?? [])
      .filter((e) => e.address)
      .map((e) => ({ address: e.address!, name: e.name ?? null })),
    businessPhones: c.businessPhones ?? [],
    homePhones: c.homePhones ?? [],
    mobilePhone: c.mobilePhone ?? null,
    businessAddress: address(c.businessAddress),
    homeAddress: address(c.homeAddress),
    // Outlook stores birthdays as a DateTimeOffset; the calendar date is the part we keep.
    birthday: c.birthday ? c.birthday.slice(0, 10) : null,
    notes: c.personalNotes ?? null,
    categories: c.categories ?? [],
    createdAt: c.createdDateTime ?? null,
    lastModifiedAt: c.lastModifiedDateTime ?? null,
  };
}

export const ContactFolderOut = z.object({
  id: z.string(),
  name: z.string(),
  parentFolderId: z.string().nullable(),
});
export type ContactFolder = z.infer<typeof ContactFolderOut>;

const GraphFolder = z.object({ id: z.string(), displayName: str, parentFolderId: str }).passthrough();

export function toFolder(raw: unknown): ContactFolder {
  const f = GraphFolder.parse(raw);
  return { id: f.id, name: f.displayName ?? '', parentFolderId: f.parentFolderId ?? null };
}

// ---------------------------------------------------------------- input fields

export const idField = (what: string) => z.string().min(1).max(1024).describe(what);
const text = (max: number, what: string) => z.string().max(max).describe(what);
const emailIn = z
  .object({
    address: z.email().max(320).describe('The email address.'),
    name: z
      .string()
      .max(255)
      .optional()
      .describe('Display name shown with the address (default: the address).'),
  })
  .strict();
const addressIn = z
  .object({
    street: z.string().max(500).optional().describe('Street and number.'),
    city: z.string().max(255).optional().describe('City.'),
    state: z.string().max(255).optional().describe('State or province.'),
    countryOrRegion: z.string().max(255).optional().describe('Country or region.'),
    postalCode: z.string().max(40).optional().describe('Postal code.'),
  })
  .strict();
const phone = z.string().min(1).max(64);
const isoDate = z.iso.date();

/** Scalar fields set as given (create and update). */
export const contactScalarFields = {
  givenName: text(255, 'First name.').optional(),
  middleName: text(255, 'Middle name.').optional(),
  surname: text(255, 'Last name.').optional(),
  displayName: text(255, 'Name as shown (default: built from first, middle and last name).').optional(),
  nickName: text(255, 'Nickname.').optional(),
  companyName: text(255, 'Company.').optional(),
  jobTitle: text(255, 'Job title.').optional(),
  department: text(255, 'Department.').optional(),
  officeLocation: text(255, 'Office location.').optional(),
  mobilePhone: text(64, 'Mobile phone number.').optional(),
  businessAddress: addressIn.optional().describe('Business postal address (replaces the whole address).'),
  homeAddress: addressIn.optional().describe('Home postal address (replaces the whole address).'),
  birthday: isoDate.optional().describe('Birthday as a calendar date, YYYY-MM-DD.'),
  notes: text(32000, 'Personal notes about the contact.').optional(),
  categories: z
    .array(z.string().min(1).max(255))
    .max(50)
    .optional()
    .describe('Outlook categories (replaces the list).'),
};

export const createEmailsField = z
  .array(emailIn)
  .max(MAX_EMAILS)
  .optional()
  .describe(`Email addresses, at most ${MAX_EMAILS} (an Outlook limit).`);
export const createPhonesField = (what: string) =>
  z.array(phone).max(10).optional().describe(`${what} phone numbers.`);

export const emailChangesField = z
  .object({
    add: z
      .array(emailIn)
      .max(MAX_EMAILS)
      .optional()
      .describe('Addresses to add (already present ones are kept once).'),
    remove: z.array(z.email().max(320)).max(MAX_EMAILS).optional().describe('Addresses to remove.'),
    change: z
      .array(
        z
          .object({
            from: z.email().max(320).describe('The address on the contact to change.'),
            address: z.email().max(320).describe('The new address.'),
            name: z
              .string()
              .max(255)
              .optional()
              .describe('New display name for it (default: keep the old one).'),
          })
          .strict(),
      )
      .max(MAX_EMAILS)
      .optional()
      .describe('Addresses to change in place.'),
  })
  .strict()
  .describe(
    `Changes to the email addresses. The other addresses are kept (the action merges with the current list; at most ${MAX_EMAILS} in total).`,
  );

export const phoneChangesField = (what: string) =>
  z
    .object({
      add: z.array(phone).max(10).optional().describe('Numbers to add.'),
      remove: z.array(phone).max(10).optional().describe('Numbers to remove.'),
      change: z
        .array(
          z
            .object({ from: phone.describe('The number to change.'), to: phone.describe('The new number.') })
            .strict(),
        )
        .max(10)
        .optional()
        .describe('Numbers to change in place.'),
    })
    .strict()
    .describe(`Changes to the ${what} phone numbers; the others are kept (merged with the current list).`);

type ScalarInput = { [K in keyof typeof contactScalarFields]?: z.output<(typeof contactScalarFields)[K]> };

/** Graph properties for the scalar fields present in the input. */
export function scalarBody(input: ScalarInput): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const direct = [
    'givenName',
    'middleName',
    'surname',
    'displayName',
    'nickName',
    'companyName',
    'jobTitle',
    'department',
    'officeLocation',
    'mobilePhone',
    'businessAddress',
    'homeAddress',
    'categories',
  ] as const;
  for (const k of direct) if (input[k] !== undefined) body[k] = input[k];
  // Noon UTC keeps the calendar date in every zone from UTC-11 to UTC+12 when Outlook shows it.
  if (input.birthday !== undefined) body.birthday = `${input.birthday}T11:59:00Z`;
  if (input.notes !== undefined) body.personalNotes = input.notes;
  return body;
}

export function emailsBody(
  emails: Array<z.output<typeof emailIn>>,
): Array<{ address: string; name: string }> {
  return emails.map((e) => ({ address: e.address, name: e.name ?? e.address }));
}

function fieldProblem(field: string, message: string): Problem {
  return new Problem('invalid_input', `${field} ${message}`, { errors: [{ field, message }] });
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Applies add/remove/change to the current addresses; refuses unknown `from`s and a fourth address. */
export function mergeEmails(
  current: Array<{ address?: string | null; name?: string | null }>,
  changes: z.output<typeof emailChangesField>,
): Array<{ address: string; name: string }> {
  let list = current
    .filter((e) => e.address)
    .map((e) => ({ address: e.address!, name: e.name ?? e.address! }));
  for (const c of changes.change ?? []) {
    const i = list.findIndex((e) => same(e.address, c.from));
    if (i < 0)
      throw fieldProblem('emails.change', `names ${c.from}, which is not an address of this contact`);
    list[i] = {
      address: c.address,
      name: c.name ?? (same(list[i]!.name, c.from) ? c.address : list[i]!.name),
    };
  }
  for (const r of changes.remove ?? []) list = list.filter((e) => !same(e.address, r));
  for (const a of changes.add ?? []) {
    if (!list.some((e) => same(e.address, a.address)))
      list.push({ address: a.address, name: a.name ?? a.address });
  }
  if (list.length > MAX_EMAILS) {
    throw fieldProblem(
      'emails',
      `would leave ${list.length} addresses; a contact holds at most ${MAX_EMAILS}`,
    );
  }
  return list;
}

export function mergePhones(
  field: string,
  current: string[],
  changes: z.output<ReturnType<typeof phoneChangesField>>,
): string[] {
  let list = [...current];
  for (const c of changes.change ?? []) {
    const i = list.findIndex((p) => p.trim() === c.from.trim());
    if (i < 0)
      throw fieldProblem(`${field}.change`, `names ${c.from}, which is not a number of this contact`);
    list[i] = c.to;
  }
  for (const r of changes.remove ?? []) list = list.filter((p) => p.trim() !== r.trim());
  for (const a of changes.add ?? []) if (!list.includes(a)) list.push(a);
  return list;
}
