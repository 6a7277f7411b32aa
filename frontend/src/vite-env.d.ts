/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base URL of the Kiln API when the SPA is hosted on another origin. Default: same origin. */
  readonly VITE_KILN_API_URL?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
