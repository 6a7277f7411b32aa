/**
 * A short, recognisable form of a UUID for tables. Kiln ids are UUIDv7, whose first characters
 * are a timestamp shared by everything created around the same time: the tail is what differs.
 */
export function shortId(id: string): string {
  return id.replace(/-/g, '').slice(-8)
}
