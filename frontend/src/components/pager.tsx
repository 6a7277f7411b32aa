import { ChevronLeftIcon, ChevronRightIcon } from 'lucide-react'
import { useCallback, useEffect, useRef, useState } from 'react'
import { Button } from '@/components/ui/button'

/**
 * Cursor pagination over `{items, next_cursor}` lists. The current cursor lives in the URL (so a
 * page is linkable); the cursors of the pages before it live here, so "Previous" steps back
 * exactly. A deep link to a later page has no history: "Previous" then goes to the first page.
 * `resetKey` (the filters) clears the history when the list being paged changes.
 */
export function useCursorPager({
  cursor,
  setCursor,
  resetKey,
}: {
  cursor: string | undefined
  setCursor: (cursor: string | undefined) => void
  resetKey: string
}) {
  const [history, setHistory] = useState<(string | undefined)[]>([])
  const lastKey = useRef(resetKey)
  useEffect(() => {
    if (lastKey.current !== resetKey) {
      lastKey.current = resetKey
      setHistory([])
    }
  }, [resetKey])

  const next = useCallback(
    (nextCursor: string) => {
      setHistory((h) => [...h, cursor])
      setCursor(nextCursor)
    },
    [cursor, setCursor],
  )
  const previous = useCallback(() => {
    setHistory(history.slice(0, -1))
    setCursor(history[history.length - 1])
  }, [history, setCursor])

  return { hasPrevious: cursor !== undefined, next, previous, page: history.length + 1 }
}

export function Pager({
  page,
  hasPrevious,
  nextCursor,
  onPrevious,
  onNext,
  busy,
}: {
  page: number
  hasPrevious: boolean
  nextCursor: string | null | undefined
  onPrevious: () => void
  onNext: (cursor: string) => void
  busy?: boolean
}) {
  if (!hasPrevious && !nextCursor) return null
  return (
    <nav className="mt-4 flex items-center justify-end gap-2" aria-label="Pagination">
      <span className="mr-2 text-sm text-muted-foreground">Page {page}</span>
      <Button variant="outline" size="sm" disabled={!hasPrevious || busy} onClick={onPrevious}>
        <ChevronLeftIcon /> Previous
      </Button>
      <Button variant="outline" size="sm" disabled={!nextCursor || busy} onClick={() => nextCursor && onNext(nextCursor)}>
        Next <ChevronRightIcon />
      </Button>
    </nav>
  )
}
