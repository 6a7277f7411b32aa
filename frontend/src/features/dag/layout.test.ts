import { describe, expect, it } from 'vitest'
import { type DagTask, layoutDag } from './layout'

const etl: DagTask[] = [
  { name: 'extract', parents: [] },
  { name: 'clean', parents: ['extract'] },
  { name: 'enrich', parents: ['extract'] },
  { name: 'load', parents: ['clean', 'enrich'] },
  { name: 'notify', parents: ['load'] },
]

function byId(layout: ReturnType<typeof layoutDag>) {
  return new Map(layout.nodes.map((n) => [n.id, n]))
}

describe('layoutDag', () => {
  it('places every parent before its children (left to right)', () => {
    const layout = layoutDag(etl)
    const nodes = byId(layout)
    for (const task of etl) {
      for (const parent of task.parents) {
        const p = nodes.get(parent)!
        const c = nodes.get(task.name)!
        expect(p.x + p.width).toBeLessThan(c.x)
      }
    }
  })

  it('places parents above children when laid out top to bottom', () => {
    const nodes = byId(layoutDag(etl, { direction: 'TB' }))
    for (const task of etl) {
      for (const parent of task.parents) {
        expect(nodes.get(parent)!.y + nodes.get(parent)!.height).toBeLessThan(nodes.get(task.name)!.y)
      }
    }
  })

  it('keeps siblings of one rank apart (no overlapping boxes)', () => {
    const nodes = byId(layoutDag(etl))
    const clean = nodes.get('clean')!
    const enrich = nodes.get('enrich')!
    expect(clean.x).toBe(enrich.x)
    expect(Math.abs(clean.y - enrich.y)).toBeGreaterThanOrEqual(clean.height)
  })

  it('returns one edge per dependency and ignores unknown or duplicate parents', () => {
    const layout = layoutDag([
      { name: 'a', parents: [] },
      { name: 'b', parents: ['a', 'a', 'ghost', 'b'] },
      { name: 'a', parents: ['b'] },
    ])
    expect(layout.nodes.map((n) => n.id)).toEqual(['a', 'b'])
    expect(layout.edges).toEqual([{ id: 'a->b', source: 'a', target: 'b' }])
  })

  it('lays out disconnected tasks and a long chain in dependency order', () => {
    const chain: DagTask[] = Array.from({ length: 30 }, (_, i) => ({ name: `t${i}`, parents: i ? [`t${i - 1}`] : [] }))
    const nodes = byId(layoutDag([...chain, { name: 'lonely', parents: [] }]))
    for (let i = 1; i < 30; i++) expect(nodes.get(`t${i - 1}`)!.x).toBeLessThan(nodes.get(`t${i}`)!.x)
    expect(nodes.get('lonely')).toBeDefined()
  })

  it('reports the size of the whole drawing', () => {
    const layout = layoutDag(etl, { nodeWidth: 100, nodeHeight: 40 })
    const right = Math.max(...layout.nodes.map((n) => n.x + n.width))
    const bottom = Math.max(...layout.nodes.map((n) => n.y + n.height))
    expect(layout.width).toBeGreaterThanOrEqual(right)
    expect(layout.height).toBeGreaterThanOrEqual(bottom)
  })

  it('handles an empty workflow', () => {
    expect(layoutDag([])).toMatchObject({ nodes: [], edges: [] })
  })
})
