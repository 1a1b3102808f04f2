/* store: being written */
#include "store.h"
