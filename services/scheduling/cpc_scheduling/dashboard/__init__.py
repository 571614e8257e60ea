"""The conference team's dashboard (/dashboard): the week at a glance in a browser, and the chair's actions."""
