"""The ``rootkeys`` command line, behind its public face `rootkeys.cli`.

``parser`` declares the commands and their help; ``context`` resolves options against the
environment and builds sessions, journals and progress; ``one`` and ``org`` run the
commands for one account and for an organization; ``output`` prints tables, JSON and
CSV; ``app`` is ``main``. Never imported by ``import rootkeys``.
"""
