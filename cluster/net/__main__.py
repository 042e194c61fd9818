"""``python -m cluster.net --name n1 --dir NODE_DIR --cluster CLUSTER_JSON``: run one real node.

The entry point lives here rather than in ``cluster.net.server``, which the package's facade
imports: running a module that its package already imported would execute it twice.
"""

import sys

from cluster.net.server import main

sys.exit(main())
