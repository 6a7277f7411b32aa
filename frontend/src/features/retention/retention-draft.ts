/**
 * The retention form's checks and how a number of days reads. Pure and unit-tested; the server
 * checks again (`app/domain/retention/schemas.py`: 0 < days ≤ 3650, a 422 is shown as is).
 */

export const MAX_DAYS = 3650

// A plain decimal, as typed: `30`, `0.5`, `.25`, `-1` (refused by the range check, with its own
// message). Not `1e3`, `0x10` or `Infinity`, which `Number()` would take.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/

/** What is wrong with the typed number of days, or undefined when the server should take it. */
export function validateDays(raw: string): string | undefined {
  const text = raw.trim()
  if (!text) return 'How many days should finished runs be kept? For example 30, or 0.5 for 12 hours.'
  if (!DECIMAL.test(text)) return 'A number of days, like 30 or 0.5.'
  const days = Number(text)
  if (!(days > 0)) return 'More than 0 days.'
  if (days > MAX_DAYS) return `At most ${MAX_DAYS} days (10 years).`
  return undefined
}

/** The typed number of days (call after `validateDays` found nothing). */
export function parseDays(raw: string): number {
  return Number(raw.trim())
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`

/** `30 days`, `1 day`, `0.5 days`: the value as the API has it. */
export function formatDays(days: number): string {
  const n = days.toLocaleString('en-US', { maximumSignificantDigits: 6, useGrouping: false })
  return `${n} ${days === 1 ? 'day' : 'days'}`
}

const UNITS: [string, number][] = [
  ['year', 365 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
]

/**
 * A number of days as people say it: `12 hours` for 0.5, `1 day 12 hours` for 1.5, `10 years`
 * for 3650. At most two neighbouring units; "about" when that leaves something out.
 */
export function humanizeDays(days: number): string {
  let seconds = Math.round(days * 86_400)
  if (seconds <= 0) return 'less than a second'
  const parts: number[] = UNITS.map(([, size]) => {
    const count = Math.floor(seconds / size)
    seconds -= count * size
    return count
  })
  const first = parts.findIndex((count) => count > 0)
  const shown = [first, first + 1].filter((i) => i < UNITS.length && parts[i]! > 0)
  const rest = parts.slice(first + 2).some((count) => count > 0)
  const text = shown.map((i) => plural(parts[i]!, UNITS[i]![0])).join(' ')
  return rest ? `about ${text}` : text
}

/** The human hint, when it says more than `formatDays` does (`12 hours` for 0.5, not `30 days` for 30). */
export function daysHint(days: number): string | undefined {
  const hint = humanizeDays(days)
  return hint === formatDays(days) ? undefined : hint
}
