"""Time triggers: crons (``on_crons`` and ``POST /api/v1/crons``) and one-off schedules
(``POST /api/v1/schedules``), fired by due-time rows claimed with ``FOR UPDATE SKIP LOCKED``."""
