from ddaudit_tui.entry import main

raise SystemExit(main())
