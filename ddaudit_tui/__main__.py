from ddaudit_tui.cli import main

raise SystemExit(main())
