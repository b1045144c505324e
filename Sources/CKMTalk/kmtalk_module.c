/* SwiftPM needs one source file in a C target; the module only exposes include/kmtalk.h. */
#include "kmtalk.h"
