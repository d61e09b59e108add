from pseudo_label.cli import main

raise SystemExit(main())
