"""Week-level planning: the channel-level optimizer's parts at channel x week.

Owns week curves (impulses measured by simulation), the week-level problem with its time constraints
(pacing, weeks on air, dark weeks, locks, committed spend), its program, plan and closed loop.
"""
