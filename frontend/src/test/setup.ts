import { afterEach } from 'vitest'

// Unmount React trees between tests (only where a DOM exists).
afterEach(async () => {
  if (typeof document === 'undefined') return
  const { cleanup } = await import('@testing-library/react')
  cleanup()
})
