from mimeseal.cli import main

raise SystemExit(main())
