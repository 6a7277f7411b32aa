import { useQuery } from '@tanstack/react-query'
import { BanIcon, RotateCcwIcon } from 'lucide-react'
import { useState } from 'react'
import { can, meQuery } from '@/api/auth'
import { errorMessage } from '@/api/errors'
import { isFinished, type Run, useCancelRun, useReplayRun } from '@/api/runs'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { Button } from '@/components/ui/button'
import { toast } from '@/components/ui/toast'

/** Whether the caller may cancel and replay (members and up; `operate` permission). */
export function useCanOperate(): boolean {
  const { data: me } = useQuery(meQuery)
  return can(me, 'operate')
}

/** Cancel (while it runs) or replay (once finished) a whole run. */
export function RunActions({ run }: { run: Run }) {
  const allowed = useCanOperate()
  const cancel = useCancelRun()
  const replay = useReplayRun()
  const [confirming, setConfirming] = useState(false)
  if (!allowed) return null
  if (!isFinished(run.status)) {
    return (
      <>
        <Button variant="outline" onClick={() => setConfirming(true)}>
          <BanIcon /> Cancel run
        </Button>
        <ConfirmDialog
          open={confirming}
          onOpenChange={(open) => {
            setConfirming(open)
            if (!open) cancel.reset()
          }}
          title="Cancel this run?"
          description="Tasks not started are dropped, running tasks are told to stop, and child runs are cancelled too. You can replay it later."
          confirmLabel="Cancel run"
          pending={cancel.isPending}
          error={cancel.error}
          onConfirm={() =>
            cancel.mutate(run.id, {
              onSuccess: () => {
                setConfirming(false)
                toast('Run cancelled', { variant: 'success' })
              },
            })
          }
        />
      </>
    )
  }
  return (
    <Button
      variant="outline"
      disabled={replay.isPending}
      onClick={() =>
        replay.mutate(
          { id: run.id },
          {
            onSuccess: () => toast('Replaying the whole run', { variant: 'success' }),
            onError: (error) => toast('Could not replay', { description: errorMessage(error), variant: 'error' }),
          },
        )
      }
    >
      <RotateCcwIcon /> {replay.isPending ? 'Replaying…' : 'Replay'}
    </Button>
  )
}

/** Re-run one task and everything after it; the other tasks keep their outputs. */
export function ReplayFromHere({ run, task, status }: { run: Run; task: string; status: string }) {
  const allowed = useCanOperate()
  const replay = useReplayRun()
  if (!allowed || !isFinished(run.status)) return null
  return (
    <Button
      variant="outline"
      size="sm"
      disabled={replay.isPending}
      title="Re-run this task and the tasks after it; the others keep their outputs"
      onClick={() =>
        replay.mutate(
          { id: run.id, fromTask: task },
          {
            onSuccess: () => toast(`Replaying from ${task}`, { variant: 'success' }),
            onError: (error) => toast('Could not replay', { description: errorMessage(error), variant: 'error' }),
          },
        )
      }
    >
      <RotateCcwIcon /> {status === 'failed' ? 'Retry from here' : 'Replay from here'}
    </Button>
  )
}
