"""One line per check, and the closing 'N passed, N failed' line."""

import sys


class Report:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def ok(self, message):
        self.passed += 1
        self._print("PASS", message)

    def fail(self, message):
        self.failed += 1
        self._print("FAIL", message)

    def skip(self, message):
        self.skipped += 1
        self._print("SKIP", message)

    def note(self, message):
        self._print("    ", message)

    def check(self, problems, message):
        """Passes when problems is empty; otherwise fails, listing each problem."""
        if problems:
            self.fail(message)
            for problem in problems:
                self.note("- " + problem)
        else:
            self.ok(message)

    def summary(self, prefix="dashboards"):
        line = f"{prefix}: {self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        return line

    def _print(self, status, message):
        print(f"{status}  {message}", file=self.stream, flush=True)
