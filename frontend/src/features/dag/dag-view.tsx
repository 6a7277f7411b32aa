/**
 * A workflow or run DAG drawn with React Flow, laid out by dagre (layout.ts). Nodes are coloured
 * by task status when one is given; clicking (or Enter on) a node selects the task.
 */
import '@xyflow/react/dist/style.css'
import {
  Background,
  Controls,
  type Edge,
  Handle,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
} from '@xyflow/react'
import { useMemo } from 'react'
import { statusStyle } from '@/features/runs/status'
import { useTheme } from '@/lib/theme'
import { cn } from '@/lib/utils'
import { type DagTask, layoutDag } from './layout'

export interface DagNodeInfo extends DagTask {
  status?: string
  /** A second line: duration, attempt, "retries 3"… */
  detail?: string
}

type TaskNodeData = { label: string; status?: string; detail?: string; selected: boolean }
type TaskNode = Node<TaskNodeData, 'task'>

function TaskNodeView({ data }: NodeProps<TaskNode>) {
  const style = statusStyle(data.status)
  const Icon = style.icon
  return (
    <div
      className={cn(
        'flex h-full w-full items-center gap-2 rounded-lg border-2 px-3 text-left text-card-foreground shadow-sm transition-colors',
        data.status ? style.node : 'border-border bg-card',
        data.selected && 'outline-2 outline-offset-2 outline-primary',
      )}
      data-status={data.status}
      data-testid="dag-node"
    >
      <Handle type="target" position={Position.Left} className="!size-1.5 !border-0 !bg-muted-foreground" />
      {data.status ? (
        <Icon className={cn('size-4 shrink-0', style.text, data.status === 'running' && 'animate-spin')} aria-hidden />
      ) : null}
      <div className="grid min-w-0">
        <span className="truncate text-sm font-medium">{data.label}</span>
        {data.status || data.detail ? (
          <span className="truncate text-xs text-muted-foreground">
            {[data.status, data.detail].filter(Boolean).join(' · ')}
          </span>
        ) : null}
      </div>
      <Handle type="source" position={Position.Right} className="!size-1.5 !border-0 !bg-muted-foreground" />
    </div>
  )
}

const nodeTypes = { task: TaskNodeView }

export function DagView({
  tasks,
  selected,
  onSelect,
  height = 420,
  className,
}: {
  tasks: readonly DagNodeInfo[]
  selected?: string
  onSelect?: (task: string) => void
  height?: number
  className?: string
}) {
  const { resolved } = useTheme()
  // Layout depends on the shape only; statuses change often and must not move nodes.
  const shape = useMemo(() => tasks.map((t) => `${t.name}<${t.parents.join(',')}`).join(';'), [tasks])
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-layout when the shape changes only
  const layout = useMemo(() => layoutDag(tasks), [shape])

  const nodes: TaskNode[] = useMemo(() => {
    const info = new Map(tasks.map((t) => [t.name, t]))
    return layout.nodes.map((n) => ({
      id: n.id,
      type: 'task',
      position: { x: n.x, y: n.y },
      width: n.width,
      height: n.height,
      data: { label: n.id, status: info.get(n.id)?.status, detail: info.get(n.id)?.detail, selected: n.id === selected },
      draggable: false,
      connectable: false,
      selectable: Boolean(onSelect),
      ariaLabel: `Task ${n.id}${info.get(n.id)?.status ? `, ${info.get(n.id)?.status}` : ''}`,
    }))
  }, [layout, tasks, selected, onSelect])

  const edges: Edge[] = useMemo(() => {
    const status = new Map(tasks.map((t) => [t.name, t.status]))
    return layout.edges.map((e) => ({
      ...e,
      type: 'smoothstep',
      animated: status.get(e.target) === 'running' || status.get(e.target) === 'queued',
    }))
  }, [layout, tasks])

  return (
    <div className={cn('overflow-hidden rounded-lg border bg-card', className)} style={{ height }}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        colorMode={resolved}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.2 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={Boolean(onSelect)}
        onNodeClick={(_, node) => onSelect?.(node.id)}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={16} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  )
}
