/** Connection events as change-feed entries (and so outbound events): one entry per occurrence. */
import { appendChanges, type ChangeType, type FeedService } from '../sync/feed';

export async function feedEvent(
  userId: string,
  service: FeedService,
  resource: string,
  type: ChangeType,
  summary: Record<string, unknown>,
): Promise<void> {
  const at = new Date().toISOString();
  await appendChanges(userId, [
    { service, resource, id: resource, type, summary, dedupe: JSON.stringify([service, resource, type, at]) },
  ]);
}
