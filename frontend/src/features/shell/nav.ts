import {
  ActivityIcon,
  BellIcon,
  BookOpenIcon,
  CalendarClockIcon,
  CpuIcon,
  GaugeIcon,
  HourglassIcon,
  KeyRoundIcon,
  LayoutDashboardIcon,
  type LucideIcon,
  PlayCircleIcon,
  ScrollTextIcon,
  UsersIcon,
  WebhookIcon,
  WorkflowIcon,
  ZapIcon,
} from 'lucide-react'

export interface NavItem {
  to: string
  label: string
  icon: LucideIcon
}

export interface NavGroup {
  label: string
  items: NavItem[]
}

/** Every section of the dashboard (issue 8), grouped as a user thinks about them. */
export const NAV: NavGroup[] = [
  {
    label: 'Observe',
    items: [
      { to: '/overview', label: 'Overview', icon: LayoutDashboardIcon },
      { to: '/runs', label: 'Runs', icon: PlayCircleIcon },
      { to: '/workflows', label: 'Workflows', icon: WorkflowIcon },
      { to: '/workers', label: 'Workers', icon: CpuIcon },
    ],
  },
  {
    label: 'Triggers',
    items: [
      { to: '/events', label: 'Events', icon: ZapIcon },
      { to: '/webhooks', label: 'Webhooks', icon: WebhookIcon },
      { to: '/schedules', label: 'Crons & schedules', icon: CalendarClockIcon },
    ],
  },
  {
    label: 'Control',
    items: [
      { to: '/limits', label: 'Rate limits & concurrency', icon: GaugeIcon },
      { to: '/alerts', label: 'Alerts', icon: BellIcon },
    ],
  },
  {
    label: 'Settings',
    items: [
      { to: '/onboarding', label: 'Get started', icon: BookOpenIcon },
      { to: '/settings/api-keys', label: 'API keys', icon: KeyRoundIcon },
      { to: '/settings/members', label: 'Members', icon: UsersIcon },
      { to: '/settings/audit', label: 'Audit log', icon: ScrollTextIcon },
      { to: '/settings/retention', label: 'Data retention', icon: HourglassIcon },
    ],
  },
]

export const ACTIVITY_ICON = ActivityIcon
