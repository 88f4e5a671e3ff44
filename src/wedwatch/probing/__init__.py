"""What a configured probe is made of, independent of how it runs: templates and JSONPath assertions.

A leaf package (it imports nothing else of wedwatch): the config schema validates with it and the
exporter's engine runs with it, so the two can never disagree on what a template or a path means.
"""

__all__: list[str] = []
