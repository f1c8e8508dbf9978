"""Performance benchmarks of django-accepton against the sandbox on loopback (``make bench``).

Not tests: they print figures and write docs/performance.md. See ``benchmarks.run``.
"""
