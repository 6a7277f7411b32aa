import { describe, expect, it } from 'vitest'
import { daysHint, formatDays, humanizeDays, MAX_DAYS, parseDays, validateDays } from './retention-draft'

describe('retention days', () => {
  it('takes more than 0 and at most 3650 days, fractions too', () => {
    for (const good of ['30', ' 0.5 ', '.25', '1.', '3650', '0.0001', '+7']) {
      expect(validateDays(good), good).toBeUndefined()
    }
    expect(parseDays(' 0.5 ')).toBe(0.5)
    expect(parseDays('.25')).toBe(0.25)
    expect(validateDays('')).toMatch(/^How many days/)
    expect(validateDays('   ')).toMatch(/^How many days/)
    expect(validateDays('0')).toBe('More than 0 days.')
    expect(validateDays('0.0')).toBe('More than 0 days.')
    expect(validateDays('-1')).toBe('More than 0 days.')
    expect(validateDays('3650.01')).toBe(`At most ${MAX_DAYS} days (10 years).`)
    expect(validateDays('100000')).toBe(`At most ${MAX_DAYS} days (10 years).`)
    // Number() would take these; a person typing days would not mean them.
    for (const bad of ['ten', '1e3', '0x10', 'Infinity', 'NaN', '1,5', '1.2.3', '.']) {
      expect(validateDays(bad), bad).toBe('A number of days, like 30 or 0.5.')
    }
  })

  it('reads as days, as the API has them', () => {
    expect(formatDays(30)).toBe('30 days')
    expect(formatDays(1)).toBe('1 day')
    expect(formatDays(0.5)).toBe('0.5 days')
    expect(formatDays(3650)).toBe('3650 days')
    expect(formatDays(0.1)).toBe('0.1 days')
  })

  it('has a human hint', () => {
    expect(humanizeDays(0.5)).toBe('12 hours')
    expect(humanizeDays(0.25)).toBe('6 hours')
    expect(humanizeDays(1)).toBe('1 day')
    expect(humanizeDays(1.5)).toBe('1 day 12 hours')
    expect(humanizeDays(0.1)).toBe('2 hours 24 minutes')
    expect(humanizeDays(30)).toBe('30 days')
    expect(humanizeDays(365)).toBe('1 year')
    expect(humanizeDays(400)).toBe('1 year 35 days')
    expect(humanizeDays(MAX_DAYS)).toBe('10 years')
    expect(humanizeDays(1 / 1440)).toBe('1 minute')
    expect(humanizeDays(0.0001)).toBe('9 seconds') // 8.64 s
    // Two neighbouring units at most: what is left out makes it "about".
    expect(humanizeDays(1.00001)).toBe('about 1 day')
    expect(humanizeDays(2 + 1 / 1440)).toBe('about 2 days')
    expect(humanizeDays(1e-9)).toBe('less than a second')
  })

  it('shows the hint only when it says more than the days', () => {
    expect(daysHint(0.5)).toBe('12 hours')
    expect(daysHint(365)).toBe('1 year')
    expect(daysHint(30)).toBeUndefined()
    expect(daysHint(1)).toBeUndefined()
  })
})
