/* link: being written */
#include "link.h"
