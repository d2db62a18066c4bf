import sys

from jarfalla.bench.run import main

sys.exit(main())
