"""Operating the TechFlow code location from the shell: `make run`'s planner (run_all), the
summary it prints, the dead-run releaser's command and the SQLite event-log speed-ups its process
applies to itself. It imports the code location; the code location never imports it."""
