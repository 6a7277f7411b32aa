import { Link } from '@tanstack/react-router'
import { ConstructionIcon } from 'lucide-react'
import { PageHeader } from '@/components/page-header'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'

export interface ComingSoonSpec {
  title: string
  description: string
  /** What the page will show, once the server offers the API. */
  planned: string[]
}

/** A section whose server API does not exist yet. Says so plainly; shows no made-up data. */
export function ComingSoon({ title, description, planned }: ComingSoonSpec) {
  return (
    <>
      <PageHeader title={title} description={description} />
      <EmptyState
        icon={ConstructionIcon}
        title="Coming soon"
        action={
          <Button asChild variant="outline">
            <Link to="/onboarding">Get started meanwhile</Link>
          </Button>
        }
      >
        <p>This server does not offer the {title.toLowerCase()} API yet. Once it does, this page will show:</p>
        <ul className="mt-2 list-disc pl-5 text-left">
          {planned.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      </EmptyState>
    </>
  )
}

/** Sections waiting on server APIs (issue 8). Remove an entry when its page is built. */
export const COMING_SOON = {
  limits: {
    title: 'Rate limits & concurrency',
    description: 'Keep tasks within the limits of the systems they call.',
    planned: ['Rate limits and their current usage', 'Concurrency groups and their queues'],
  },
} satisfies Record<string, ComingSoonSpec>
