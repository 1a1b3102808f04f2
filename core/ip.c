/* ip: being written */
#include "ip.h"
