from lawstats.cli import main

try:
    raise SystemExit(main())
except BrokenPipeError:  # output piped into `head`: stopping early is not an error
    raise SystemExit(0)
