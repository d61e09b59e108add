from hookseg.cli import main

raise SystemExit(main())
