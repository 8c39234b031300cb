/**
 * Planner JSON → our outputs, and our inputs → Planner bodies (plannertask.md,
 * plannertaskdetails.md). Priorities are Planner's four labels (0–1 urgent, 2–4 important, 5–7
 * medium, 8–10 low; Planner itself writes 1, 3, 5, 9), progress is notStarted / inProgress /
 * completed (percentComplete 0, 1–99, 100), dates are UTC instants.
 */
import { z } from 'zod';
import { untrusted } from '../../actions/output';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);

export const PRIORITIES = ['urgent', 'important', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const PROGRESS = ['notStarted', 'inProgress', 'completed'] as const;

/** The value Planner writes for each label (plannertask.md, priority). */
export const PRIORITY_VALUE: Record<Priority, number> = { urgent: 1, important: 3, medium: 5, low: 9 };

export function priorityOf(value: number): Priority {
  if (value <= 1) return 'urgent';
  if (value <= 4) return 'important';
  if (value <= 7) return 'medium';
  return 'low';
}

export const PERCENT: Record<(typeof PROGRESS)[number], number> = {
  notStarted: 0,
  inProgress: 50,
  completed: 100,
};

function progressOf(percent: number): (typeof PROGRESS)[number] {
  return percent >= 100 ? 'completed' : percent > 0 ? 'inProgress' : 'notStarted';
}

export const PlanOut = z.object({
  id: z.string(),
  title: untrusted(z.string(), 'task'),
  groupId: z.string().nullable().describe('The Microsoft 365 group (team) that contains the plan.'),
  createdAt: z.string().nullable(),
});

export function toPlan(raw: unknown): z.infer<typeof PlanOut> {
  const p = obj(raw);
  return {
    id: String(p.id),
    title: str(p.title) ?? '',
    groupId: str(obj(p.container).containerId) ?? str(p.owner),
    createdAt: str(p.createdDateTime),
  };
}

export const BucketOut = z.object({
  id: z.string(),
  name: untrusted(z.string(), 'task'),
  planId: z.string(),
});

export function toBucket(raw: unknown): z.infer<typeof BucketOut> {
  const b = obj(raw);
  return { id: String(b.id), name: str(b.name) ?? '', planId: String(b.planId) };
}

export const TaskOut = z.object({
  id: z.string(),
  title: untrusted(z.string(), 'task'),
  planId: z.string(),
  bucketId: z.string().nullable(),
  progress: z.enum(PROGRESS),
  percentComplete: z.number(),
  priority: z.enum(PRIORITIES),
  startAt: z.string().nullable(),
  dueAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  assignees: z.array(z.string()).describe('Entra object ids of the people the task is assigned to.'),
  categories: z.array(z.string()).describe('Applied labels: category1 … category25.'),
  checklist: z.object({ total: z.number(), open: z.number() }),
  hasDescription: z.boolean(),
  createdAt: z.string().nullable(),
  eTag: z
    .string()
    .describe('The version read: pass it to updateTask/deleteTask to refuse changes made meanwhile.'),
});

export function toTask(raw: unknown): z.infer<typeof TaskOut> {
  const t = obj(raw);
  const percent = num(t.percentComplete);
  return {
    id: String(t.id),
    title: str(t.title) ?? '',
    planId: String(t.planId),
    bucketId: str(t.bucketId),
    progress: progressOf(percent),
    percentComplete: percent,
    priority: priorityOf(num(t.priority, 5)),
    startAt: str(t.startDateTime),
    dueAt: str(t.dueDateTime),
    completedAt: str(t.completedDateTime),
    assignees: Object.keys(obj(t.assignments)),
    categories: Object.entries(obj(t.appliedCategories))
      .filter(([, on]) => on === true)
      .map(([k]) => k),
    checklist: { total: num(t.checklistItemCount), open: num(t.activeChecklistItemCount) },
    hasDescription: t.hasDescription === true,
    createdAt: str(t.createdDateTime),
    eTag: str(t['@odata.etag']) ?? '',
  };
}

export const ChecklistItemOut = z.object({
  id: z.string(),
  title: untrusted(z.string(), 'task'),
  isChecked: z.boolean(),
});

export const TaskWithDetailsOut = TaskOut.extend({
  description: untrusted(z.string(), 'task'),
  checklistItems: z.array(ChecklistItemOut).describe('In Planner’s order.'),
  references: z.array(z.object({ url: z.string(), alias: z.string().nullable() })),
  detailsETag: z.string(),
});

/** Checklist items in Planner's order (ordinal order hints, planner-order-hint-format.md). */
export function checklistOf(details: Json): Array<z.infer<typeof ChecklistItemOut> & { orderHint: string }> {
  return Object.entries(obj(details.checklist))
    .map(([id, v]) => {
      const item = obj(v);
      return {
        id,
        title: str(item.title) ?? '',
        isChecked: item.isChecked === true,
        orderHint: str(item.orderHint) ?? '',
      };
    })
    .sort((a, b) => (a.orderHint < b.orderHint ? -1 : a.orderHint > b.orderHint ? 1 : 0));
}

export function toTaskWithDetails(task: unknown, details: unknown): z.infer<typeof TaskWithDetailsOut> {
  const d = obj(details);
  return {
    ...toTask(task),
    description: str(d.description) ?? '',
    checklistItems: checklistOf(d).map(({ id, title, isChecked }) => ({ id, title, isChecked })),
    // Reference keys are the URL, encoded (plannerexternalreferences.md).
    references: Object.entries(obj(d.references)).map(([key, v]) => ({
      url: decodeReferenceKey(key),
      alias: str(obj(v).alias),
    })),
    detailsETag: str(d['@odata.etag']) ?? '',
  };
}

/**
 * A reference's key is its URL with '%', '.', ':', '@' and '#' percent-encoded
 * (plannerexternalreferences.md: "%" → %25, "." → %2E, ":" → %3A, "@" → %40, "#" → %23).
 */
export function referenceKey(url: string): string {
  return url.replace(/[%.:@#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function decodeReferenceKey(key: string): string {
  return key.replace(/%(25|2E|3A|40|23)/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
