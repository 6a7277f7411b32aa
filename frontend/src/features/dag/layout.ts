/**
 * DAG layout: tasks and their parents → positioned boxes and edges, computed by dagre.
 * Pure (no React, no DOM) so it is unit-tested and reused by the workflow and run views.
 */
import { Graph, layout } from '@dagrejs/dagre'

export interface DagTask {
  name: string
  parents: readonly string[]
}

export interface LayoutOptions {
  /** LR: parents to the left of children (default); TB: parents above. */
  direction?: 'LR' | 'TB'
  nodeWidth?: number
  nodeHeight?: number
  /** Gap between ranks (dependency levels) and between nodes of one rank. */
  rankGap?: number
  nodeGap?: number
}

export interface PositionedNode {
  id: string
  /** Top-left corner, as React Flow positions nodes. */
  x: number
  y: number
  width: number
  height: number
}

export interface DagEdge {
  id: string
  source: string
  target: string
}

export interface DagLayout {
  nodes: PositionedNode[]
  edges: DagEdge[]
  width: number
  height: number
}

export const DEFAULT_NODE_WIDTH = 190
export const DEFAULT_NODE_HEIGHT = 56

/**
 * Lay out the tasks. Edges to parents that are not in `tasks` are dropped (a definition being
 * edited, or a partial run), and a task listed twice keeps its first entry.
 */
export function layoutDag(tasks: readonly DagTask[], options: LayoutOptions = {}): DagLayout {
  const {
    direction = 'LR',
    nodeWidth = DEFAULT_NODE_WIDTH,
    nodeHeight = DEFAULT_NODE_HEIGHT,
    rankGap = 70,
    nodeGap = 24,
  } = options

  const graph = new Graph({ multigraph: false })
  graph.setGraph({ rankdir: direction, ranksep: rankGap, nodesep: nodeGap, marginx: 8, marginy: 8 })
  graph.setDefaultEdgeLabel(() => ({}))

  const names = new Set<string>()
  const unique: DagTask[] = []
  for (const task of tasks) {
    if (names.has(task.name)) continue
    names.add(task.name)
    unique.push(task)
    graph.setNode(task.name, { width: nodeWidth, height: nodeHeight })
  }

  const edges: DagEdge[] = []
  for (const task of unique) {
    for (const parent of new Set(task.parents)) {
      if (!names.has(parent) || parent === task.name) continue
      graph.setEdge(parent, task.name)
      edges.push({ id: `${parent}->${task.name}`, source: parent, target: task.name })
    }
  }

  layout(graph)

  const nodes = unique.map((task) => {
    const node = graph.node(task.name)
    // dagre gives centres; React Flow wants top-left corners.
    return { id: task.name, x: node.x - nodeWidth / 2, y: node.y - nodeHeight / 2, width: nodeWidth, height: nodeHeight }
  })
  const label = graph.graph()
  return { nodes, edges, width: label.width ?? 0, height: label.height ?? 0 }
}
