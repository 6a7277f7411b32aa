import { fileURLToPath, URL } from 'node:url'
import tailwindcss from '@tailwindcss/vite'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The server serves dist/ at "/" with hashed files under /assets (app/spa.py).
// In dev, /api is proxied to a local `kiln server start` (port 8080 by default).
export default defineConfig({
  base: '/',
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    rolldownOptions: {
      output: {
        // React changes less often than the app: its own long-cached chunk. Heavy page-only
        // libraries (@xyflow, dagre, recharts) are split off by the lazy routes that import them.
        codeSplitting: {
          groups: [{ name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ }],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': process.env.KILN_DEV_API ?? 'http://127.0.0.1:8080',
    },
  },
})
