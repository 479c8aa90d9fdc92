from lawstats.cli import main

raise SystemExit(main())
