from __future__ import annotations

import pytest


@pytest.fixture
def settings(settings):
    """Plugin tests drive the loops themselves, reach local receivers, and time hooks out fast."""
    return settings.model_copy(update={
        "run_loops": False, "allow_private_egress": True, "plugin_hook_timeout_seconds": 0.5,
    })
