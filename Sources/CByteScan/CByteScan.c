// Everything is `static inline` in include/CByteScan.h; SwiftPM needs one source file per C target.
#include "CByteScan.h"
