// The public headers, imported into Swift so that the C ABI shim uses their exact layouts.
#include "specdec.h"
#include "specdec_plugin.h"
