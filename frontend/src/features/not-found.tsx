import { Link } from '@tanstack/react-router'
import { CompassIcon } from 'lucide-react'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'

export function NotFoundPage() {
  return (
    <div className="p-8">
      <EmptyState
        icon={CompassIcon}
        title="Page not found"
        action={
          <Button asChild>
            <Link to="/overview">Go to the overview</Link>
          </Button>
        }
      >
        This address does not match any page of the dashboard.
      </EmptyState>
    </div>
  )
}
