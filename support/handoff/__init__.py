"""Human handoff: tickets, their summary and transcript, support hours, and the agents' desk."""
