/** `validateSearch` of the audit log: `?action=api_key.created&cursor=…`. */
export function validateAuditSearch(search: Record<string, unknown>): { action?: string; cursor?: string } {
  const pick = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined)
  return { action: pick(search.action), cursor: pick(search.cursor) }
}
