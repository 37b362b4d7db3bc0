"""The floor for scanning: a plain os.walk + stat over the same tree, printing the file count."""

import os
import sys

count = 0
for folder, _dirs, names in os.walk(sys.argv[1]):
    for name in names:
        os.stat(os.path.join(folder, name))
        count += 1
print(count)
