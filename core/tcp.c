/* tcp: being written */
#include "tcp.h"
