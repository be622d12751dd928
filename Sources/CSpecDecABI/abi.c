// The public header, imported into Swift so that the C ABI shim uses its exact struct layouts.
#include "specdec.h"
