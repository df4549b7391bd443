"""The readiness assessment: drive faults and load through recoup and report what was measured."""
