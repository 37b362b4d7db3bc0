"""The diagnosis screens: diagnose a problem, the quick-fix checklist, the support report."""
