/**
 * Light/dark theme: a persisted choice (`light`, `dark`, or `system` = follow
 * prefers-color-scheme). index.html applies it before the first paint to avoid a flash.
 */
import { useSyncExternalStore } from 'react'

export type ThemeChoice = 'light' | 'dark' | 'system'
export const THEME_STORAGE_KEY = 'kiln-theme'

const listeners = new Set<() => void>()
const media = () => window.matchMedia('(prefers-color-scheme: dark)')

export function readThemeChoice(): ThemeChoice {
  try {
    const stored = localStorage.getItem(THEME_STORAGE_KEY)
    if (stored === 'light' || stored === 'dark' || stored === 'system') return stored
  } catch {
    // Storage can be blocked (privacy modes); fall back to the system preference.
  }
  return 'system'
}

export function resolveTheme(choice: ThemeChoice, systemDark: boolean): 'light' | 'dark' {
  if (choice === 'system') return systemDark ? 'dark' : 'light'
  return choice
}

function apply(choice: ThemeChoice) {
  const dark = resolveTheme(choice, media().matches) === 'dark'
  document.documentElement.classList.toggle('dark', dark)
}

export function setThemeChoice(choice: ThemeChoice) {
  try {
    localStorage.setItem(THEME_STORAGE_KEY, choice)
  } catch {
    // Not persisted, still applied for this page.
  }
  apply(choice)
  for (const listener of listeners) listener()
}

/** Keep the page in sync with OS theme changes while the choice is `system`. */
export function watchSystemTheme(): () => void {
  const query = media()
  const onChange = () => {
    if (readThemeChoice() === 'system') apply('system')
    for (const listener of listeners) listener()
  }
  query.addEventListener('change', onChange)
  return () => query.removeEventListener('change', onChange)
}

function subscribe(listener: () => void) {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export function useTheme(): { choice: ThemeChoice; resolved: 'light' | 'dark'; setChoice: typeof setThemeChoice } {
  const choice = useSyncExternalStore(subscribe, readThemeChoice)
  const systemDark = useSyncExternalStore(subscribe, () => media().matches)
  return { choice, resolved: resolveTheme(choice, systemDark), setChoice: setThemeChoice }
}
