/**
 * The demo tenant's SharePoint: the root communication site, two team sites (Marketing, with an
 * EMEA subsite, and Engineering) and their lists with typed columns and a few items. Adele and
 * Megan follow Marketing; Lee follows Engineering. Ids are derived from paths, so they are the
 * same after every restart and re-seed.
 */
import type { Sandbox } from '../../context';
import { graphState } from '../core';
import { driveCtx, ensureFolders, rootOf, writeSmallFile } from '../files/state';
import { libraryOwner } from './libraries';
import {
  column,
  DEFAULT_LIBRARY,
  identity,
  itemsRef,
  listsRef,
  lookupIdOf,
  siteIdFor,
  sitesRef,
  stableGuid,
  type Column,
} from './model';

interface SeedList {
  displayName: string;
  description: string;
  columns: Column[];
  items: Array<Record<string, unknown>>;
}

interface SeedSite {
  path: string;
  collectionPath: string;
  parentPath?: string;
  name: string;
  displayName: string;
  description: string;
  followers: string[];
  lists: SeedList[];
  files?: Array<{ folder: string[]; name: string; text: string }>;
}

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';

function sites(sandbox: Sandbox): SeedSite[] {
  const person = (upn: string) => {
    const user = sandbox.directory.findUser(upn);
    return user ? lookupIdOf(sandbox, user.id) : undefined;
  };
  return [
    {
      path: '/',
      collectionPath: '/',
      name: '',
      displayName: 'Contoso',
      description: 'The Contoso intranet home',
      followers: [],
      lists: [],
    },
    {
      path: '/sites/marketing',
      collectionPath: '/sites/marketing',
      name: 'marketing',
      displayName: 'Marketing',
      description: 'Campaigns, brand and events',
      followers: [ADELE, MEGAN],
      files: [
        {
          folder: ['Brand'],
          name: 'Brand Guidelines.docx',
          text: 'Contoso brand guidelines: logo, colours, tone.\n',
        },
        {
          folder: ['Campaigns', 'Spring'],
          name: 'Spring Launch Plan.docx',
          text: 'Spring launch: channels and dates.\n',
        },
      ],
      lists: [
        {
          displayName: 'Campaigns',
          description: 'Every campaign with its budget and launch date',
          columns: [
            column('Status', 'Status', 'choice', {
              indexed: true,
              facet: {
                allowTextEntry: false,
                choices: ['Planned', 'Active', 'Done'],
                displayAs: 'dropDownMenu',
              },
            }),
            column('Budget', 'Budget', 'number', { facet: { decimalPlaces: 'two', displayAs: 'number' } }),
            column('Launch', 'Launch date', 'dateTime', {
              facet: { displayAs: 'default', format: 'dateOnly' },
            }),
            column('Approved', 'Approved', 'boolean'),
            column('Owner', 'Owner', 'personOrGroup', {
              facet: {
                allowMultipleSelection: false,
                chooseFromType: 'peopleOnly',
                displayAs: 'nameWithPresence',
              },
            }),
          ],
          items: [
            {
              Title: 'Spring launch',
              Status: 'Active',
              Budget: 25000,
              Launch: '2027-03-01T00:00:00Z',
              Approved: true,
              OwnerLookupId: person(MEGAN),
            },
            {
              Title: 'Partner webinar series',
              Status: 'Planned',
              Budget: 8000,
              Launch: '2027-05-15T00:00:00Z',
              Approved: false,
              OwnerLookupId: person(ADELE),
            },
            {
              Title: 'Winter sale',
              Status: 'Done',
              Budget: 12000,
              Launch: '2026-11-20T00:00:00Z',
              Approved: true,
              OwnerLookupId: person(MEGAN),
            },
          ],
        },
      ],
    },
    {
      path: '/sites/marketing/emea',
      collectionPath: '/sites/marketing',
      parentPath: '/sites/marketing',
      name: 'emea',
      displayName: 'Marketing EMEA',
      description: 'Campaigns in Europe, the Middle East and Africa',
      followers: [],
      lists: [],
    },
    {
      path: '/sites/engineering',
      collectionPath: '/sites/engineering',
      name: 'engineering',
      displayName: 'Engineering',
      description: 'Platform, releases and incidents',
      followers: [LEE],
      files: [
        {
          folder: ['Runbooks'],
          name: 'Incident Runbook.md',
          text: '# Incident runbook\n\nPage, triage, fix, review.\n',
        },
      ],
      lists: [
        {
          displayName: 'Incidents',
          description: 'Production incidents and their follow-up',
          columns: [
            column('Severity', 'Severity', 'choice', {
              indexed: true,
              facet: { allowTextEntry: false, choices: ['Sev1', 'Sev2', 'Sev3'], displayAs: 'dropDownMenu' },
            }),
            column('Resolved', 'Resolved', 'boolean'),
            column('Summary', 'Summary', 'text', {
              facet: {
                allowMultipleLines: true,
                appendChangesToExistingText: false,
                linesForEditing: 6,
                maxLength: 63999,
              },
            }),
          ],
          items: [
            {
              Title: 'Login latency spike',
              Severity: 'Sev2',
              Resolved: true,
              Summary: 'Token cache cold after deploy.',
            },
            { Title: 'Build agents out of disk', Severity: 'Sev3', Resolved: false },
          ],
        },
      ],
    },
  ];
}

export function seedSharePoint(sandbox: Sandbox): void {
  const store = graphState(sandbox).store;
  const siteRef = sitesRef(store);
  const tenantId = [...sandbox.directory.users.values()][0]?.tenantId;
  const author = sandbox.directory.findUser(ADELE);
  for (const seed of sites(sandbox)) {
    const id = siteIdFor(seed.collectionPath, seed.path);
    if (!store.get(siteRef, id)) {
      store.insert(siteRef, {
        id,
        path: seed.path,
        collectionPath: seed.collectionPath,
        parentId: seed.parentPath ? siteIdFor(seed.collectionPath, seed.parentPath) : undefined,
        name: seed.name,
        displayName: seed.displayName,
        description: seed.description,
        tenantId,
        followedBy: seed.followers.map((upn) => sandbox.directory.findUser(upn)?.id).filter(Boolean),
      });
    }
    // Every site has its "Documents" library (list template documentLibrary, URL Shared Documents).
    const libraryId = stableGuid(`library:${seed.path}:${DEFAULT_LIBRARY.name}`);
    const libraries = listsRef(store, id);
    if (!store.get(libraries, libraryId)) {
      store.insert(libraries, {
        id: libraryId,
        name: DEFAULT_LIBRARY.name,
        displayName: DEFAULT_LIBRARY.displayName,
        description: '',
        template: 'documentLibrary',
        columns: [],
        createdBy: identity(author),
      });
      const site = store.get(siteRef, id)!;
      const files = seed.files ?? [];
      if (files.length > 0) {
        const d = driveCtx(sandbox, libraryOwner(sandbox, site, store.get(libraries, libraryId)!), author);
        for (const f of files) {
          const folder = ensureFolders(d, rootOf(sandbox, d.owner).id, f.folder);
          writeSmallFile(d, folder.id, f.name, Buffer.from(f.text, 'utf8'));
        }
      }
    }
    for (const list of seed.lists) {
      const lists = listsRef(store, id);
      const listId = stableGuid(`list:${seed.path}:${list.displayName}`);
      if (store.get(lists, listId)) continue;
      store.insert(lists, {
        id: listId,
        name: list.displayName.replace(/[^A-Za-z0-9]/g, ''),
        displayName: list.displayName,
        description: list.description,
        template: 'genericList',
        columns: list.columns,
        createdBy: identity(author),
      });
      const items = itemsRef(store, listId);
      list.items.forEach((fields, i) => {
        const values = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
        store.insert(items, {
          id: String(i + 1),
          fields: values,
          createdBy: identity(author),
          lastModifiedBy: identity(author),
        });
      });
    }
  }
}
