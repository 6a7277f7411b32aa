/**
 * The timeline of a run: one row per task, a segment per attempt (and the wait in the queue
 * before the current one), on a shared time axis. Pure, so it is unit-tested.
 */
import type { Run } from '@/api/runs'

export interface GanttSegment {
  kind: 'queued' | 'attempt'
  status: string
  attempt?: number
  start: number
  end: number
  /** Still going (drawn to "now"). */
  open: boolean
}

export interface GanttRow {
  task: string
  /** The task's status now (a row without segments is a task that never started, or skipped). */
  status: string
  segments: GanttSegment[]
}

export interface Gantt {
  start: number
  end: number
  rows: GanttRow[]
}

const time = (iso: string | null | undefined) => (iso ? new Date(iso).getTime() : Number.NaN)

export function buildGantt(run: Pick<Run, 'created_at' | 'finished_at' | 'tasks'>, now: number = Date.now()): Gantt {
  const runStart = time(run.created_at)
  const runEnd = Number.isNaN(time(run.finished_at)) ? now : time(run.finished_at)
  let start = runStart
  let end = runEnd

  const rows: GanttRow[] = run.tasks.map((task) => {
    const segments: GanttSegment[] = []
    // Finished attempts (retries included), oldest first.
    for (const attempt of [...task.attempts].sort((a, b) => a.attempt - b.attempt)) {
      const s = time(attempt.started_at)
      const e = time(attempt.finished_at)
      if (Number.isNaN(s) || Number.isNaN(e)) continue
      segments.push({ kind: 'attempt', status: attempt.status, attempt: attempt.attempt, start: s, end: e, open: false })
    }
    const covered = new Set(task.attempts.map((a) => a.attempt))
    // The current attempt, when it is not (yet) in the finished list.
    const queued = time(task.queued_at)
    const started = time(task.started_at)
    const finished = time(task.finished_at)
    if (!covered.has(task.attempt)) {
      if (!Number.isNaN(queued) && (task.status === 'queued' || !Number.isNaN(started))) {
        const qEnd = Number.isNaN(started) ? now : started
        if (qEnd > queued) segments.push({ kind: 'queued', status: 'queued', start: queued, end: qEnd, open: Number.isNaN(started) })
      }
      if (!Number.isNaN(started)) {
        const open = Number.isNaN(finished)
        segments.push({ kind: 'attempt', status: task.status, attempt: task.attempt, start: started, end: open ? now : finished, open })
      }
    }
    for (const segment of segments) {
      start = Math.min(start, segment.start)
      end = Math.max(end, segment.end)
    }
    return { task: task.name, status: task.status, segments }
  })

  if (Number.isNaN(start)) start = now
  if (Number.isNaN(end) || end <= start) end = start + 1
  return { start, end, rows }
}

/** Segment placement as percentages of the axis. */
export function placement(gantt: Gantt, segment: GanttSegment): { left: number; width: number } {
  const span = gantt.end - gantt.start
  const left = ((segment.start - gantt.start) / span) * 100
  const width = ((segment.end - segment.start) / span) * 100
  return { left: Math.max(0, left), width: Math.max(0.4, Math.min(100 - left, width)) }
}
