import { describe, expect, it } from 'vitest'
import type { Run, TaskState } from '@/api/runs'
import { buildGantt, placement } from './gantt'

const t = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString()

function task(partial: Partial<TaskState> & { name: string }): TaskState {
  return {
    id: partial.name, status: 'pending', attempt: 0, attempts: [], error: null, output: null, parents: [],
    queued_at: null, started_at: null, finished_at: null, retry_at: null, waiting_for: null, worker_id: null,
    ...partial,
  }
}

describe('buildGantt', () => {
  const run: Pick<Run, 'created_at' | 'finished_at' | 'tasks'> = {
    created_at: t(0),
    finished_at: null,
    tasks: [
      task({
        name: 'extract', status: 'succeeded', attempt: 2, queued_at: t(3), started_at: t(4), finished_at: t(6),
        attempts: [
          { attempt: 1, status: 'failed', started_at: t(1), finished_at: t(2), error: 'boom', traceback: null, worker_id: null },
          { attempt: 2, status: 'succeeded', started_at: t(4), finished_at: t(6), error: null, traceback: null, worker_id: null },
        ],
      }),
      task({ name: 'load', status: 'running', attempt: 1, parents: ['extract'], queued_at: t(6), started_at: t(7) }),
      task({ name: 'notify', parents: ['load'] }),
    ],
  }

  it('draws finished attempts, the wait in the queue and the running attempt up to now', () => {
    const gantt = buildGantt(run, Date.parse(t(10)))
    expect(gantt.start).toBe(Date.parse(t(0)))
    expect(gantt.end).toBe(Date.parse(t(10)))
    const [extract, load, notify] = gantt.rows
    expect(extract?.segments.map((s) => [s.kind, s.status, s.attempt])).toEqual([
      ['attempt', 'failed', 1],
      ['attempt', 'succeeded', 2],
    ])
    expect(load?.segments.map((s) => [s.kind, s.status, s.open])).toEqual([
      ['queued', 'queued', false],
      ['attempt', 'running', true],
    ])
    expect(load?.segments[1]?.end).toBe(Date.parse(t(10)))
    expect(notify?.segments).toEqual([])
  })

  it('places segments as percentages of the run', () => {
    const gantt = buildGantt(run, Date.parse(t(10)))
    const failed = gantt.rows[0]!.segments[0]!
    expect(placement(gantt, failed)).toEqual({ left: 10, width: 10 })
  })

  it('survives a run with no timestamps', () => {
    const gantt = buildGantt({ created_at: 'garbage', finished_at: null, tasks: [] }, 1000)
    expect(gantt.end).toBeGreaterThan(gantt.start)
  })
})
