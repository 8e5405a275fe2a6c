"""The shared judgement: one message judged once, and the checks every command reports.

``tail --validate``, ``probe``, ``load`` and ``validate`` judge messages here so they
can never disagree about one; a check is declared once and appears with the same
flag, JSON field and JUnit case name wherever it makes sense.
"""
