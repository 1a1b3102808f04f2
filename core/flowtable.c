/* flowtable: being written */
#include "flowtable.h"
